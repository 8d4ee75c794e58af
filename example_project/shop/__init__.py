"""The demo shop: the seed document's users, orders and audit logs as Django models."""
