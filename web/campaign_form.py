"""The new-campaign form: every option of ``warroom campaign create``, as a page's fields, turned into the
same :class:`dialer.service.CampaignSpec` the command line builds (times typed without a zone are in the
campaign's time zone)."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from dialer.campaigns import DEFAULT_RETRY
from dialer.service import CampaignSpec
from web.inputs import Text

OUTCOMES = tuple(DEFAULT_RETRY)
STATUSES = ("strong", "weak", "swing", "unknown")
LEVELS = ("district", "ac", "mandal", "sector", "booth")
ACTIONS = ("check", "draft", "start")
_TIME = re.compile(r"^\d{2}:\d{2}$")
Short = Field("", max_length=200)


class CampaignForm(BaseModel):
    """The fields of the new-campaign page (all text, checked when the campaign is checked or saved)."""

    name: Text = Short
    mode: Text = Field("ivr", max_length=20)
    units: Text = Field("", max_length=4000, description="unit keys (ac:112, booth:112:45) or ids, space-separated")
    levels: list[Text] = Field(default_factory=list, max_length=10)
    posts: list[Text] = Field(default_factory=list, max_length=100)
    other_posts: Text = Field("", max_length=1000, description="more posts, comma-separated")
    statuses: list[Text] = Field(default_factory=list, max_length=10)
    window_start: Text = Field("", max_length=10)
    window_end: Text = Field("", max_length=10)
    timezone: Text = Field("", max_length=60)
    starts_at: Text = Field("", max_length=40, description="YYYY-MM-DDTHH:MM in the campaign's time zone")
    ends_at: Text = Field("", max_length=40)
    priority: Text = Field("5", max_length=10)
    no_answer_tries: Text = Field("", max_length=10)
    no_answer_after: Text = Field("", max_length=20)
    busy_tries: Text = Field("", max_length=10)
    busy_after: Text = Field("", max_length=20)
    congestion_tries: Text = Field("", max_length=10)
    congestion_after: Text = Field("", max_length=20)
    failed_tries: Text = Field("", max_length=10)
    failed_after: Text = Field("", max_length=20)
    use_alternate: Text = Field("", max_length=10)
    record_calls: Text = Field("", max_length=10)
    trunk: Text = Field("lines", max_length=60)
    script_strong: Text = Field("", max_length=60)
    script_weak: Text = Field("", max_length=60)
    script_swing: Text = Field("", max_length=60)
    script_unknown: Text = Field("", max_length=60)
    field_name: list[Text] = Field(default_factory=list, max_length=30)
    field_value: list[Text] = Field(default_factory=list, max_length=30)
    action: Text = Field("check", max_length=10, description="check, draft (save) or start")

    def fields(self) -> dict[str, str]:
        return {k.strip(): v.strip() for k, v in zip(self.field_name, self.field_value, strict=False)
                if k.strip() and v.strip()}

    def field_rows(self, declared: list[str]) -> list[tuple[str, str]]:
        """The template fields to show: those given (with their values), then those the scripts declare."""
        given = dict(zip(self.field_name, self.field_value, strict=False))
        return [(name, given.get(name, "")) for name in dict.fromkeys([*self.field_name, *declared]) if name]

    def query(self) -> str:
        """The form as a query string (the summary's and the audio previews' links)."""
        data = self.model_dump(exclude={"action"})
        return urlencode([(k, v) for k, vs in data.items() for v in (vs if isinstance(vs, list) else [vs]) if v])

    def field_query(self) -> str:
        return urlencode([("field_name", k) for k in self.fields()] + [("field_value", v)
                                                                      for v in self.fields().values()])


def new_form(timezone: str, window: tuple[str, str]) -> CampaignForm:
    """An empty form with the service's defaults filled in."""
    retry = {f"{o}_{part}": str(v[key]) if part == "tries" else _duration(v["after"])
             for o, v in DEFAULT_RETRY.items() for part, key in (("tries", "tries"), ("after", "after"))}
    return CampaignForm(timezone=timezone, window_start=window[0], window_end=window[1], use_alternate="on",
                        **retry)


def _duration(seconds: int) -> str:
    return f"{seconds // 3600}h" if seconds and seconds % 3600 == 0 else \
        f"{seconds // 60}m" if seconds and seconds % 60 == 0 else f"{seconds}s"


def form_of(spec: CampaignSpec, timezone: str, window: tuple[str, str]) -> CampaignForm:
    """A stored campaign's settings as the form (to clone it)."""
    form = new_form(spec.timezone or timezone, (spec.window_start or window[0], spec.window_end or window[1]))
    tz = ZoneInfo(spec.timezone or timezone)
    retry: dict[str, str] = {}
    for item in spec.retry:
        outcome, _, rest = item.partition("=")
        tries, _, after = rest.partition("/")
        retry |= {f"{outcome}_tries": tries, f"{outcome}_after": after}
    return form.model_copy(update={
        "name": spec.name, "mode": spec.mode, "units": " ".join(spec.units), "levels": list(spec.levels),
        "posts": list(spec.posts), "statuses": list(spec.statuses), "priority": str(spec.priority),
        "starts_at": spec.starts_at.astimezone(tz).strftime("%Y-%m-%dT%H:%M") if spec.starts_at else "",
        "ends_at": spec.ends_at.astimezone(tz).strftime("%Y-%m-%dT%H:%M") if spec.ends_at else "",
        "use_alternate": "on" if spec.use_alternate else "", "record_calls": "on" if spec.record_calls else "",
        "trunk": spec.trunk,
        **{f"script_{k}": v for k, v in spec.scripts.items() if k in STATUSES},
        "field_name": list(spec.fields), "field_value": list(spec.fields.values()), **retry})


def spec_of(form: CampaignForm, default_timezone: str) -> tuple[CampaignSpec | None, dict[str, str]]:
    """The form as a campaign spec, or the problems found on the way, by field."""
    errors: dict[str, str] = {}
    for name in ("window_start", "window_end"):
        value = getattr(form, name).strip()
        if value and not _TIME.match(value):
            errors[name] = "a time like 09:00"
    zone_name = form.timezone.strip() or default_timezone
    try:
        zone = ZoneInfo(zone_name)
    except (KeyError, ValueError):
        errors["timezone"] = f"unknown time zone '{zone_name}' (e.g. Asia/Kolkata)"
        zone = ZoneInfo(default_timezone)
    moments: dict[str, datetime | None] = {}
    for name in ("starts_at", "ends_at"):
        value = getattr(form, name).strip()
        try:
            moment = datetime.fromisoformat(value) if value else None
        except ValueError:
            errors[name] = "a date and time like 2026-12-05T09:00"
            moment = None
        if moment is not None and not 2000 <= moment.year <= 2100:
            errors[name] = "a date between 2000 and 2100"
            moment = None
        moments[name] = moment.replace(tzinfo=zone) if moment is not None and moment.tzinfo is None else moment
    priority = form.priority.strip() or "5"
    if not (priority.isascii() and priority.isdigit() and int(priority) <= 100):
        errors["priority"] = "a whole number from 0 to 100"
    retry = []
    for outcome in OUTCOMES:
        tries, after = getattr(form, f"{outcome}_tries").strip(), getattr(form, f"{outcome}_after").strip()
        if tries or after:
            retry.append(f"{outcome}={tries or '1'}/{after or '0'}")
    posts = [p.strip() for p in [*form.posts, *form.other_posts.split(",")] if p.strip()]
    if errors:
        return None, errors
    return CampaignSpec(
        name=form.name.strip(), mode=form.mode.strip() or "ivr", units=[u for u in re.split(r"[\s,]+", form.units)
                                                                     if u],
        levels=[v for v in form.levels if v], posts=posts, statuses=[v for v in form.statuses if v],
        window_start=form.window_start.strip() or None, window_end=form.window_end.strip() or None,
        timezone=form.timezone.strip() or None, starts_at=moments["starts_at"], ends_at=moments["ends_at"],
        priority=int(priority), retry=retry, use_alternate=bool(form.use_alternate), trunk=form.trunk.strip(),
        scripts={s: getattr(form, f"script_{s}").strip() for s in STATUSES if getattr(form, f"script_{s}").strip()},
        fields=form.fields(), record_calls=bool(form.record_calls)), {}


def chosen_scripts(form: CampaignForm, defaults: dict[str, str]) -> dict[str, str]:
    """The script each booth status will hear."""
    return {s: getattr(form, f"script_{s}").strip() or defaults[s] for s in STATUSES}

