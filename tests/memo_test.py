"""generator/memo.py: answers kept by an object's identity and a key."""

from __future__ import annotations

from generator.memo import IdentityMemo


def test_an_answer_belongs_to_the_very_object_and_its_key() -> None:
    memo: IdentityMemo[str] = IdentityMemo(8)
    data = {"a": 1}
    assert memo.get(data, ("x", 1)) is None
    assert memo.put(data, ("x", 1), "answer") == "answer"
    assert memo.get(data, ("x", 1)) == "answer"
    assert memo.get(data, ("x", 2)) is None  # another key
    assert memo.get({"a": 1}, ("x", 1)) is None  # an equal but other object


def test_the_object_is_kept_so_its_id_is_not_reused() -> None:
    memo: IdentityMemo[int] = IdentityMemo(8)
    memo.put({"temporary": True}, None, 1)
    later = [{"other": n} for n in range(100)]  # may take freed ids: none gets the answer
    assert all(memo.get(item) is None for item in later)


def test_it_empties_itself_at_its_limit() -> None:
    memo: IdentityMemo[int] = IdentityMemo(2)
    owners = [object(), object(), object()]
    for index, owner in enumerate(owners):
        memo.put(owner, None, index)
    assert memo.get(owners[0]) is None and memo.get(owners[1]) is None
    assert memo.get(owners[2]) == 2
