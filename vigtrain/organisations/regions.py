"""UK regions and nations by ONS code: seeded by the first migration and by `ensure_regions`.

Changing this list needs a new migration as well, so existing databases follow.
"""

UK_REGIONS = [
    ("E12000001", "North East", "England"),
    ("E12000002", "North West", "England"),
    ("E12000003", "Yorkshire and The Humber", "England"),
    ("E12000004", "East Midlands", "England"),
    ("E12000005", "West Midlands", "England"),
    ("E12000006", "East of England", "England"),
    ("E12000007", "London", "England"),
    ("E12000008", "South East", "England"),
    ("E12000009", "South West", "England"),
    ("W92000004", "Wales", "Wales"),
    ("S92000003", "Scotland", "Scotland"),
    ("N92000002", "Northern Ireland", "Northern Ireland"),
]
