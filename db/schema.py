"""Every table of the schema, for migrations and tests: importing this registers all models."""

from db import (
    audit,
    callbacks,
    campaigns,
    ivr,
    jobs,
    nodes,
    operators,
    outreach,
    phones,
    pollday,
    security,
    sip_bans,
    tickets,
    users,
)
from db.models import Base

metadata = Base.metadata

__all__ = ["audit", "callbacks", "campaigns", "ivr", "jobs", "metadata", "nodes", "operators", "outreach", "phones",
           "pollday", "security", "sip_bans", "tickets", "users"]
