"""Relationship work (issue 19, docs/relationships.md): praise messages to families of
improving pupils, sent through GOV.UK Notify or exported for a school's own texting system."""
