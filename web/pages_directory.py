"""Directory pages: the hierarchy with each committee's coverage, finding people, a person's page (posts,
phones, language, DND, verification, every call and answer) and their corrections (through the change feed:
the dialer follows within a second), and a booth's status set by hand with a reason."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from core.errors import ServiceError
from directory.people import PersonEdit
from web.deps import Services, Staff
from web.inputs import Text
from web.pages_common import acting, refusal, render

router = APIRouter(tags=["directory pages"])
MAX_ID = 2_147_483_647
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Search = Annotated[Text, Query(max_length=100)]


@router.get("/directory", response_class=HTMLResponse)
async def directory_page(request: Request, who: Staff, svc: Services,
                         unit: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> Response:
    """A unit of the hierarchy (the top without ``unit``): its path, committee members and each child's
    coverage (committees with two reachable contacts); at the top, the coverage report too."""
    page = await svc.directory.unit(unit)
    report = (await svc.directory.coverage()).as_dict() if unit is None else None
    return render(request, who, "directory.html", page=page, coverage=report)


@router.get("/directory/units")
async def find_units(_who: Staff, svc: Services, q: Search = "") -> list[dict[str, Any]]:
    """Units whose name, key or number matches ``q`` (the new-campaign page's unit picker)."""
    return await svc.directory.find_units(q)


@router.get("/directory/people", response_class=HTMLResponse)
async def people_page(request: Request, who: Staff, svc: Services, q: Search = "") -> Response:
    """People by name (either script) or by digits of their phones."""
    return render(request, who, "people.html", q=q, people=await svc.directory.find_people(q) if q else [])


@router.get("/directory/people/{person_id}", response_class=HTMLResponse)
async def person_page(request: Request, who: Staff, svc: Services, person_id: Id,
                      saved: Annotated[Text, Query(max_length=200)] = "") -> Response:
    """Everything about a person, and the form to correct them."""
    person = await svc.directory.person(person_id)
    return render(request, who, "person.html", person=person, form=None, saved=saved)


class PersonForm(BaseModel):
    """A person's corrections, as the form sends them; a field left out leaves that fact as it is (the page
    sends ``alt_phone_sent``, so an empty ``alt_phone`` removes the alternate phone; ``dnd`` is ``off``, then
    ``on`` when ticked)."""

    phone: Text = Field("", max_length=40)
    alt_phone: Text = Field("", max_length=40)
    alt_phone_sent: Text = Field("", max_length=5)
    language: Text = Field("", max_length=5)
    dnd: list[Text] = Field(default_factory=list, max_length=2)
    remove_posts: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(default_factory=list, max_length=50)

    @property
    def dnd_ticked(self) -> bool | None:
        return "on" in self.dnd if self.dnd else None


@router.post("/directory/people/{person_id}", response_class=HTMLResponse)
async def edit_person(request: Request, who: Staff, svc: Services, person_id: Id,
                      form: Annotated[PersonForm, Form()]) -> Response:
    """Correct a person: phone, alternate phone, language, DND, posts to take away."""
    edit = PersonEdit(phone=form.phone.strip() or None,
                      alt_phone=form.alt_phone.strip() if form.alt_phone_sent or form.alt_phone.strip() else None,
                      language=form.language.strip() or None, dnd=form.dnd_ticked,
                      remove_posts=tuple(form.remove_posts))
    try:
        changed = await svc.directory.edit_person(person_id, edit, acting(request, who))
    except ServiceError as exc:
        person = await svc.directory.person(person_id)
        return render(request, who, "person.html", 422, person=person, form=form, errors=refusal(exc), saved="")
    return RedirectResponse(f"/directory/people/{person_id}?saved={','.join(changed) or 'nothing'}", status_code=303)


@router.post("/directory/units/{unit_id}/status", response_class=HTMLResponse)
async def booth_status(request: Request, who: Staff, svc: Services, unit_id: Id,
                       status: Annotated[Text, Form(max_length=20)],
                       reason: Annotated[Text, Form(max_length=500)] = "") -> Response:
    """Set a booth's status by hand, with the reason (``auto`` returns to the one its results give)."""
    page = await svc.directory.unit(unit_id)
    booth = page["unit"]
    if booth is None or booth["kind"] != "booth" or booth.get("ac_no") is None:
        return render(request, who, "directory.html", 422, page=page, coverage=None,
                      errors={"form": "only a booth has a status"})
    try:
        await svc.directory.set_status(booth["ac_no"], booth["booth_no"], status.strip(), reason, who.username,
                                           actor=acting(request, who))
    except ServiceError as exc:
        return render(request, who, "directory.html", 422, page=page, coverage=None, errors=refusal(exc, "status"))
    return RedirectResponse(f"/directory?unit={unit_id}", status_code=303)
