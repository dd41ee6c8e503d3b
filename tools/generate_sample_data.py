#!/usr/bin/env python3
"""Generate the retail demo's sample data (customers, products, orders) as CSV files.

The output is deterministic: one seeded ``random.Random`` drives every value, rows are
written in key order with ``\\n`` line endings, so the same seed always yields the same
bytes. The committed files in ``pipelines/retail/data`` are this script's output;
``--check`` regenerates them in memory and fails when the committed copy differs.

The files mimic a source-system extract: every row carries ``updated_at`` (the extract's
change timestamp, used by the curated SQL to keep the latest version of a key), ids are
unique, and orders only reference existing customers and products. Personal data is
fictitious: names come from small built-in lists, e-mail addresses use the reserved
``example.*`` domains and phone numbers use the ``555`` fictional range.

Usage:
    python tools/generate_sample_data.py --out pipelines/retail/data
    python tools/generate_sample_data.py --out pipelines/retail/data --check
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

SEED = 20240101
N_CUSTOMERS = 300
N_PRODUCTS = 120
N_ORDERS = 1500

# Orders fall in this window; the exposure view aggregates them per day.
ORDERS_FROM = datetime(2024, 1, 1, tzinfo=UTC)
ORDER_DAYS = 90
# Every record was last changed before the extract was taken.
EXTRACT_AT = datetime(2024, 4, 1, 6, 0, tzinfo=UTC)

FIRST_NAMES = (
    "Ada", "Alan", "Amara", "Anna", "Bruno", "Chen", "Clara", "David", "Elena", "Emil",
    "Fatima", "Felix", "Grace", "Hana", "Hugo", "Ines", "Ivan", "Jonas", "Julia", "Kenji",
    "Lara", "Leo", "Lina", "Lucas", "Maja", "Marco", "Maria", "Mateo", "Nadia", "Noah",
    "Olga", "Omar", "Paula", "Pedro", "Priya", "Rosa", "Sami", "Sara", "Tomas", "Yara",
)
LAST_NAMES = (
    "Alvarez", "Bauer", "Bianchi", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia",
    "Hansen", "Horvat", "Ivanova", "Jensen", "Kowalski", "Larsen", "Lopez", "Martin",
    "Meyer", "Moreau", "Nagy", "Novak", "Olsen", "Petit", "Rossi", "Santos", "Schmidt",
    "Silva", "Smith", "Tanaka", "Varga", "Weber", "Wojcik", "Young",
)
# ISO 3166-1 alpha-2 code, international dialling code, cities.
COUNTRIES = (
    ("DE", "49", ("Berlin", "Hamburg", "Munich", "Cologne")),
    ("FR", "33", ("Paris", "Lyon", "Marseille", "Lille")),
    ("IT", "39", ("Rome", "Milan", "Turin", "Naples")),
    ("ES", "34", ("Madrid", "Barcelona", "Valencia", "Seville")),
    ("NL", "31", ("Amsterdam", "Rotterdam", "Utrecht")),
    ("PL", "48", ("Warsaw", "Krakow", "Gdansk")),
    ("SE", "46", ("Stockholm", "Gothenburg", "Malmo")),
    ("PT", "351", ("Lisbon", "Porto")),
)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")

# Category -> (product nouns, price range in cents).
CATEGORIES = {
    "Apparel": (("T-Shirt", "Hoodie", "Jacket", "Scarf", "Cap"), (900, 12000)),
    "Electronics": (("Headphones", "Charger", "Speaker", "Keyboard", "Mouse"), (1500, 25000)),
    "Home": (("Mug", "Lamp", "Cushion", "Blanket", "Vase"), (500, 8000)),
    "Sports": (("Yoga Mat", "Water Bottle", "Dumbbell", "Backpack", "Bike Light"), (800, 9000)),
    "Books": (("Cookbook", "Novel", "Atlas", "Guide", "Notebook"), (600, 4500)),
    "Beauty": (("Shampoo", "Soap", "Lotion", "Perfume", "Lip Balm"), (300, 7000)),
}
ADJECTIVES = (
    "Classic", "Eco", "Urban", "Nordic", "Compact", "Premium", "Everyday", "Vintage",
    "Travel", "Deluxe",
)
ORDER_STATUSES = (("delivered", 70), ("shipped", 12), ("placed", 8), ("cancelled", 6),
                  ("returned", 4))
CHANNELS = (("web", 55), ("app", 30), ("store", 15))

CUSTOMER_HEADER = (
    "customer_id", "full_name", "email", "phone", "birth_date", "country_code", "city",
    "signup_date", "updated_at",
)
PRODUCT_HEADER = (
    "product_id", "product_name", "category", "unit_price", "active", "updated_at",
)
ORDER_HEADER = (
    "order_id", "customer_id", "product_id", "order_ts", "quantity", "unit_price", "status",
    "channel", "updated_at",
)

Row = dict[str, str]


def _ts(value: datetime) -> str:
    """Format a UTC timestamp the way the source system exports it (ISO 8601, ``Z``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(cents: int) -> str:
    """Format an amount in cents as a decimal string; integer maths keeps it exact."""
    return f"{cents // 100}.{cents % 100:02d}"


def _weighted(rng: random.Random, choices: Sequence[tuple[str, int]]) -> str:
    values = [value for value, _ in choices]
    weights = [weight for _, weight in choices]
    return rng.choices(values, weights=weights, k=1)[0]


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A whole-second timestamp in [start, end)."""
    return start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))


def make_customers(rng: random.Random, count: int) -> list[Row]:
    """Customers with personal data (name, e-mail, phone, birth date)."""
    rows: list[Row] = []
    for number in range(1, count + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        country, dial_code, cities = rng.choice(COUNTRIES)
        birth = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
        signup = datetime(2021, 1, 1, tzinfo=UTC) + timedelta(
            days=rng.randrange(365 * 3)
        )
        rows.append({
            "customer_id": f"C{number:05d}",
            "full_name": f"{first} {last}",
            # The id in the local part keeps addresses unique without a lookup table.
            "email": f"{first}.{last}.{number}@{rng.choice(EMAIL_DOMAINS)}".lower(),
            "phone": f"+{dial_code} 555 {rng.randrange(10**6, 10**7)}",
            "birth_date": birth.isoformat(),
            "country_code": country,
            "city": rng.choice(cities),
            "signup_date": signup.date().isoformat(),
            "updated_at": _ts(_between(rng, signup, EXTRACT_AT)),
        })
    return rows


def make_products(rng: random.Random, count: int) -> list[Row]:
    """Products in a few categories, with prices in EUR."""
    rows: list[Row] = []
    categories = sorted(CATEGORIES)
    for number in range(1, count + 1):
        category = categories[(number - 1) % len(categories)]
        nouns, (low, high) = CATEGORIES[category]
        rows.append({
            "product_id": f"P{number:04d}",
            "product_name": f"{rng.choice(ADJECTIVES)} {rng.choice(nouns)} {number}",
            "category": category,
            # Prices end in .99 or .49, as shops like them.
            "unit_price": _money(rng.randrange(low, high, 100) + rng.choice((49, 99))),
            "active": "true" if rng.random() < 0.9 else "false",
            "updated_at": _ts(_between(rng, datetime(2023, 6, 1, tzinfo=UTC),
                                       ORDERS_FROM)),
        })
    return rows


def make_orders(
    rng: random.Random, count: int, customers: list[Row], products: list[Row]
) -> list[Row]:
    """Order lines referencing existing customers and products, ordered by id."""
    drafts: list[tuple[datetime, Row]] = []
    for _ in range(count):
        customer = rng.choice(customers)
        product = rng.choice(products)
        ordered_at = _between(rng, ORDERS_FROM, ORDERS_FROM + timedelta(days=ORDER_DAYS))
        status = _weighted(rng, ORDER_STATUSES)
        # A status change (shipping, delivery, return) happens after the order.
        changed_at = ordered_at if status == "placed" else min(
            ordered_at + timedelta(hours=rng.randrange(2, 24 * 10)), EXTRACT_AT
        )
        drafts.append((ordered_at, {
            "customer_id": customer["customer_id"],
            "product_id": product["product_id"],
            "order_ts": _ts(ordered_at),
            "quantity": str(_weighted(rng, (("1", 60), ("2", 25), ("3", 10), ("5", 5)))),
            "unit_price": product["unit_price"],
            "status": status,
            "channel": _weighted(rng, CHANNELS),
            "updated_at": _ts(changed_at),
        }))
    # Ids follow order time, as a source system's sequence would.
    drafts.sort(key=lambda item: (item[0], item[1]["customer_id"], item[1]["product_id"]))
    return [
        {"order_id": f"O{number:06d}", **draft}
        for number, (_, draft) in enumerate(drafts, start=1)
    ]


def to_csv(header: Sequence[str], rows: list[Row]) -> str:
    """Render rows as CSV text with a header line and ``\\n`` line endings."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(header), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def generate(seed: int = SEED) -> dict[str, str]:
    """Return the sample files as a mapping of file name -> CSV text."""
    rng = random.Random(seed)
    customers = make_customers(rng, N_CUSTOMERS)
    products = make_products(rng, N_PRODUCTS)
    orders = make_orders(rng, N_ORDERS, customers, products)
    return {
        "customers.csv": to_csv(CUSTOMER_HEADER, customers),
        "products.csv": to_csv(PRODUCT_HEADER, products),
        "orders.csv": to_csv(ORDER_HEADER, orders),
    }


def write(out: Path, files: dict[str, str]) -> None:
    """Write the files into ``out`` (created if missing)."""
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8", newline="")


def check(out: Path, files: dict[str, str]) -> list[str]:
    """Return the names of files in ``out`` that are missing or differ from ``files``."""
    stale = []
    for name, text in files.items():
        path = out / name
        if not path.is_file() or path.read_bytes() != text.encode("utf-8"):
            stale.append(name)
    return stale


def main(argv: Sequence[str] | None = None, echo: Callable[[str], None] = print) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("pipelines/retail/data"),
                        help="directory of the CSV files (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed (default: %(default)s)")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the files in --out are not up to date")
    args = parser.parse_args(argv)
    files = generate(args.seed)
    if args.check:
        stale = check(args.out, files)
        for name in stale:
            echo(f"{args.out / name}: out of date, run tools/generate_sample_data.py")
        return 1 if stale else 0
    write(args.out, files)
    for name, text in files.items():
        echo(f"wrote {args.out / name} ({text.count(chr(10)) - 1} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
