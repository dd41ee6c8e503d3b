"""``df-gen ci``: CI workflows for environment directories, and the pull-request comment.

- :mod:`generator.ci.workflows` builds the workflow files of one CI system from the
  environments' models: :mod:`generator.ci.github`, :mod:`generator.ci.gitlab` and
  :mod:`generator.ci.cloudbuild` arrange the steps of :mod:`generator.ci.steps`;
- :mod:`generator.ci.files` writes them, never overwriting a hand-edited one (render's
  manifest mechanism: a manifest of the hashes df-gen wrote);
- :mod:`generator.ci.comment` posts the change report as one comment per environment on a
  pull or merge request, and updates that comment on every push;
- :mod:`generator.ci.plankey` names where a pull request's saved plans wait for the apply
  after the merge.
"""
