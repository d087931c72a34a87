"""`make bench`: seed SQLite at 1x and 10x AVIGuk's scale and time the main pages (DESIGN.md §5)."""
