"""Contact endpoints: classify job titles."""

from __future__ import annotations

from fastapi import APIRouter

from app.apikeys.auth import ReadKey
from app.contacts.schemas import ClassifyRequest, ClassifyResponse, TitleClassOut
from app.scoring.titles import classify_title

router = APIRouter(prefix="/api/v1/contacts", tags=["contacts"])


@router.post("/classify", response_model=ClassifyResponse)
async def classify(body: ClassifyRequest, _: ReadKey) -> ClassifyResponse:
    """Seniority and function of each job title (DESIGN §8), in input order; stores nothing."""
    results = []
    for title in body.titles:
        verdict = classify_title(title)
        results.append(
            TitleClassOut(title=title, seniority=verdict.seniority, function=verdict.function)
        )
    return ClassifyResponse(results=results)
