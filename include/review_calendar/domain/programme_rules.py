"""The rules part of a programme file: validity, evaluation, re-review, criteria, recognition, money.

Split from :mod:`review_calendar.domain.programmes` (the schema of obligations and
the loader), which composes these models into a :class:`~review_calendar.domain.programmes.Programme`.
Every threshold a document does not state is marked in the file as configuration
(``bands_configured``, ``completion_configured``) and shown as such.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Ids of programmes, obligations, criteria: lower-case snake case.
ID_PATTERN = r"^[a-z][a-z0-9_]*$"


class Strict(BaseModel):
    """Base of every programme-file model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Validity(Strict):
    """How long a recognised status lasts and how it is extended (``years: null``: no expiry)."""

    years: Annotated[int, Field(ge=1, le=10)] | None = 3
    extension_years: Annotated[int, Field(ge=0, le=10)] = 3
    max_pilot_years: Annotated[int, Field(ge=1, le=10)] | None = None
    clause: str = ""


class EvaluationRules(Strict):
    """Decision rules of the yearly third-party evaluation.

    ``decides: support`` (the province's own pilots): the evaluation is the basis
    for continued support; the score bands are provincial configuration
    (``bands_configured``, shown as 省级配置规则) and never revoke; a recorded
    violation in construction or use of funds revokes under ``violation_clause``.
    ``decides: monitor`` (a programme whose status someone else decides): the score
    is recorded for the report to that authority and decides nothing.
    """

    evaluator: str
    decides: Literal["support", "monitor"] = "support"
    bands_configured: bool = True
    continue_min_score: Annotated[float, Field(ge=0, le=100)] | None = None
    rectify_min_score: Annotated[float, Field(ge=0, le=100)] | None = None
    rectify_days: Annotated[int, Field(ge=1, le=365)] = 30
    below_rectify: Literal["rectify", "stop_support"] = "stop_support"
    revoke_on_violation: bool = False
    claw_back_subsidy: bool = False
    clause: str
    violation_clause: str = ""

    @model_validator(mode="after")
    def _bands(self) -> EvaluationRules:
        if self.decides == "monitor":
            if self.continue_min_score is not None or self.revoke_on_violation or self.claw_back_subsidy:
                raise ValueError("a monitoring evaluation decides nothing: no score bands, no revocation")
            return self
        if self.continue_min_score is None or self.rectify_min_score is None:
            raise ValueError("decides: support needs continue_min_score and rectify_min_score")
        if self.rectify_min_score > self.continue_min_score:
            raise ValueError("rectify_min_score must not exceed continue_min_score")
        if self.revoke_on_violation and not self.violation_clause:
            raise ValueError("revoke_on_violation needs the violation_clause it applies")
        return self


class ReReviewRules(Strict):
    """How the re-review at expiry decides (工信部企业〔2022〕119号 第十五条, 第十七条).

    ``decided_by: ministry``: the province's review ends in a recommendation to
    the ministry (建议复核通过 / 建议撤销认定), which decides; ``province``: the
    province decides itself. ``annual_table`` names the yearly table whose
    absence, never-corrected rejection or lateness is a ground for a proposal every
    year (第十七条（三）). ``min_target_completion`` is configuration.
    """

    decided_by: Literal["province", "ministry"] = "province"
    annual_table: str | None = None
    min_target_completion: Annotated[float, Field(ge=0, le=1)] = 0.8
    completion_configured: bool = True
    require_criteria: bool = True
    clause: str
    grounds_clause: str = ""


class Alternative(Strict):
    """One branch of an any-of criterion: the sum of ``fields`` compared with ``threshold``."""

    title: str
    fields: Annotated[list[str], Field(min_length=1)]
    op: Literal[">=", ">", "<=", "<", "=="]
    threshold: float


class Criterion(Strict):
    """A numeric recognition criterion checked on submitted indicators.

    ``kind``: ``threshold`` compares ``field`` (every one of the last ``years``
    values when ``years > 1``); ``average_growth`` compares the average annual
    growth over ``years`` years, geometric (水平法), from the levels in
    ``levels_field`` or else by chaining the yearly rates in ``field``;
    ``any_of`` is met when one of ``alternatives`` is.
    """

    id: Annotated[str, Field(pattern=ID_PATTERN)]
    title: str
    kind: Literal["threshold", "average_growth", "any_of"] = "threshold"
    field: str = ""
    levels_field: str | None = None
    op: Literal[">=", ">", "<=", "<", "=="] = ">="
    threshold: float | None = None
    alternatives: list[Alternative] = []
    unit: str = ""
    years: Annotated[int, Field(ge=1, le=5)] = 1
    clause: str = ""

    @model_validator(mode="after")
    def _complete(self) -> Criterion:
        if self.kind == "any_of":
            if len(self.alternatives) < 2:
                raise ValueError(f"criterion {self.id!r}: any_of needs at least two alternatives")
        elif not self.field or self.threshold is None:
            raise ValueError(f"criterion {self.id!r}: needs field and threshold")
        if self.kind == "average_growth" and self.years < 2:
            raise ValueError(f"criterion {self.id!r}: an average growth needs years >= 2")
        return self

    def series(self) -> dict[str, int]:
        """The indicator fields the criterion reads and how many yearly values of each (1: this year's)."""
        if self.kind == "any_of":
            return {f: 1 for a in self.alternatives for f in a.fields}
        out = {self.field: self.years}
        if self.kind == "average_growth" and self.levels_field:
            out[self.levels_field] = self.years + 1
        return out


class Recognition(Strict):
    """How a cluster enters the programme: the steps, who decides, and the conditions of an application.

    ``criteria`` are the application conditions checked on an application
    (``domain.criteria.check_criteria``); the check proposes, the body in
    ``decided_by`` recognises (recorded with ``review-calendar enrol``).
    """

    steps: list[str]
    decided_by: str
    clause: str
    criteria: list[Criterion] = []


class SubsidyRule(Strict):
    """A subsidy band: share of eligible investment, capped, optionally once only."""

    category: str
    share: Annotated[float, Field(gt=0, le=1)]
    cap_wan_yuan: Annotated[float, Field(gt=0)]
    once: bool = False
    clause: str = ""


class StageTarget(Strict):
    """A programme's stage target for a year (e.g. ≥ 20 pilot firms by 2023)."""

    year: int
    metric: str
    title: str
    minimum: float


class DivisionHead(Strict):
    """Who an unanswered proposal is escalated to (provincial or city configuration)."""

    name: str
    email: Annotated[str, Field(pattern=r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")]


class ReviewRules(Strict):
    """Who answers the programme's proposals, and when an unanswered one is escalated.

    None of this is in the source documents: it is how the deciding department
    organises its work (``configured: true``, shown as 省级配置 / 市级配置).
    ``reviewers`` are Airflow user names, set as the assigned users of each
    Required Action; ``authority`` is the department that decides (the province,
    or for a city scheme the city bureau). A proposal unanswered after
    ``escalate_after_working_days`` working days is e-mailed to the division
    head, and again after as many more; it stays open and is never decided by a
    timeout.
    """

    configured: Literal[True] = True
    authority: str
    reviewers: Annotated[list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")]], Field(min_length=1)]
    division_head: DivisionHead
    escalate_after_working_days: Annotated[int, Field(ge=1, le=60)] = 5
