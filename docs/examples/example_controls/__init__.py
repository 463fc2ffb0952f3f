"""Negative controls built on the outside examples rather than on the reference: each is an example build with one
defect, and the suite must fail it on the requirement it breaks. They show the tests judge a property, not the
reference's way of meeting it. They live beside the examples (not in the shipped suite) because the examples,
and what they depend on, exist only in a checkout; ``aico-secure conform --controls`` runs them there."""
