"""A test plugin with documented API routes: models on the RouteDecl, validated with the same
models through ``crm_core.web.api.read_query`` / ``read_body``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from crm_core.declarations import Action, RouteDecl
from crm_core.errors import NotFound
from crm_core.hookspecs import hookimpl
from crm_core.web.api import read_body, read_query


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=200)


class NoteOut(BaseModel):
    id: int
    text: str


class NoteList(BaseModel):
    items: list[NoteOut]


class NoteQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(default=None, max_length=50)


NOTES = [NoteOut(id=1, text="first note"), NoteOut(id=2, text="second note")]


def list_notes(request: Request) -> JSONResponse:
    query, _custom = read_query(request, NoteQuery)
    items = [n for n in NOTES if not query.q or query.q in n.text]
    return JSONResponse(NoteList(items=items).model_dump())


def add_note(request: Request) -> JSONResponse:
    note = read_body(request, NoteIn)
    return JSONResponse(NoteOut(id=3, text=note.text).model_dump(), status_code=201)


def get_note(request: Request) -> JSONResponse:
    found = [n for n in NOTES if n.id == request.path_params["id"]]
    if not found:
        raise NotFound(f"note {request.path_params['id']} not found")
    return JSONResponse(found[0].model_dump())


class Hooks:
    @hookimpl
    def register_permissions(self, kernel: Any) -> list[Action]:
        return [Action("apiplug.use", "使用便签", "Use notes", defaults={"admin": True, "sales_rep": True})]

    @hookimpl
    def register_routes(self, kernel: Any) -> list[RouteDecl]:
        return [
            RouteDecl("/notes", list_notes, api=True, permission="apiplug.use", name="listNotes",
                      summary="List notes", query_model=NoteQuery, response_model=NoteList),
            RouteDecl("/notes", add_note, methods=("POST",), api=True, permission="apiplug.use",
                      name="addNote", summary="Add a note", request_model=NoteIn,
                      response_model=NoteOut, status_code=201),
            RouteDecl("/notes/{id:int}", get_note, api=True, permission="apiplug.use",
                      summary="Read a note", response_model=NoteOut, tags=("notes",)),
        ]
