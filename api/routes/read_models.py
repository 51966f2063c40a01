"""Read models."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(
    prefix="/v1",
    tags=[" price timeline, deadlines, billing feed, adjustments, invoices:read models"],
)
