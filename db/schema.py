"""Every table of the schema, for migrations and tests: importing this registers all models."""

from db import audit, campaigns, ivr, jobs, nodes, operators, phones, pollday, sip_bans, tickets, users
from db.models import Base

metadata = Base.metadata

__all__ = ["audit", "campaigns", "ivr", "jobs", "metadata", "nodes", "operators", "phones", "pollday", "sip_bans",
           "tickets", "users"]
