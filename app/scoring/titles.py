"""Job titles → seniority and function (DESIGN §8): deterministic, table-driven, fast.

A title is lower-cased, its punctuation turned into spaces (dots dropped, so "Sr." and "V.P."
read "sr" and "vp"), its abbreviations expanded ("mgr" → "manager"), and then matched against
phrase and word tables. Seniority is the highest level any keyword names, with two rules of
position: "Lead" first ("Lead Engineer") is a senior individual, "Lead" elsewhere ("SEO Lead")
leads a team; an assistant to someone ("Executive Assistant to the CEO") is an individual
whoever they assist. The function is the first area the title names ("VP Sales & Marketing"
is sales); role nouns that say little on their own ("engineer", "analyst") count only when no
area is named, and a founder, owner or president is the executive unless a chief role says
more ("Founder & CTO" is engineering).

The tables are data: adding a word is one entry. Results are cached per title, since a CRM
repeats its titles many times over.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final

__all__ = ["FUNCTIONS", "SENIORITIES", "TitleClass", "classify_contact", "classify_title"]

SENIORITIES: Final = ("c_level", "vp", "director", "manager", "individual")
FUNCTIONS: Final = (
    "executive",
    "engineering",
    "it",
    "product",
    "design",
    "data",
    "marketing",
    "sales",
    "customer_success",
    "finance",
    "operations",
    "hr",
    "legal",
    "other",
)
_RANK: Final = {level: rank for rank, level in enumerate(reversed(SENIORITIES))}


@dataclass(frozen=True, slots=True)
class TitleClass:
    """What a title says: seniority (None when it says nothing) and function."""

    seniority: str | None
    function: str


# Spellings and abbreviations → the word the tables use.
_ABBREVIATIONS: Final = {
    "sr": "senior",
    "snr": "senior",
    "jr": "junior",
    "dir": "director",
    "mgr": "manager",
    "mngr": "manager",
    "mgmt": "management",
    "svp": "vp",
    "evp": "vp",
    "avp": "vp",
    "vicepresident": "vp",
    "cofounder": "founder",
    "eng": "engineering",
    "engr": "engineer",
    "mktg": "marketing",
    "mkt": "marketing",
    "ops": "operations",
    "dev": "developer",
    "devs": "developer",
    "biz": "business",
    "bizdev": "bd",
    "acct": "account",
    "exec": "executive",
    "admin": "administrator",
    "rep": "representative",
    "reps": "representative",
    "tech": "technical",
    "sys": "systems",
    "hrbp": "hr",
    "ui": "ux",
    "revops": "revenue_operations",
    "fpa": "finance",
    "gc": "general_counsel",
    "md": "managing_director",
    "gm": "general_manager",
}
# Two-word phrases, read as one token before words are looked up.
_PHRASES: Final = {
    ("vice", "president"): "vp",
    ("co", "founder"): "founder",
    ("head", "of"): "head",
    ("team", "lead"): "team_lead",
    ("team", "leader"): "team_lead",
    ("managing", "director"): "managing_director",
    ("general", "manager"): "general_manager",
    ("general", "counsel"): "general_counsel",
    ("product", "marketing"): "marketing",
    ("product", "designer"): "designer_product",
    ("product", "owner"): "product_owner",
    ("marketing", "operations"): "operations",
    ("sales", "operations"): "operations",
    ("revenue", "operations"): "revenue_operations",
    ("business", "operations"): "operations",
    ("business", "development"): "bd",
    ("business", "developer"): "bd",  # "Biz Dev", once its abbreviations are expanded
    ("business", "intelligence"): "bi",
    ("accounts", "payable"): "finance",
    ("accounts", "receivable"): "finance",
    ("supply", "chain"): "operations",
    ("learning", "development"): "hr",
    ("customer", "account"): "customer_success",
    ("administrative", "assistant"): "executive_assistant",
    ("account", "executive"): "account_executive",
    ("account", "manager"): "account_manager",
    ("customer", "success"): "customer_success",
    ("customer", "experience"): "customer_success",
    ("customer", "support"): "customer_success",
    ("information", "technology"): "it",
    ("it", "support"): "it",
    ("help", "desk"): "it",
    ("site", "reliability"): "engineering",
    ("data", "science"): "data",
    ("human", "resources"): "hr",
    ("talent", "acquisition"): "hr",
    ("people", "operations"): "hr",
    ("executive", "assistant"): "executive_assistant",
    ("office", "manager"): "office_manager",
    ("project", "manager"): "manager",
    ("social", "media"): "marketing",
    ("demand", "generation"): "marketing",
    ("demand", "gen"): "marketing",
    ("web", "development"): "engineering",
    ("board", "member"): "board",
}
_PHRASE_STARTS: Final = frozenset(first for first, _ in _PHRASES)

# Words that set seniority. A chief ("chief", or a C-something abbreviation) is also listed in
# _CHIEFS for its function.
_SENIORITY_WORDS: Final = {
    "chief": "c_level",
    "founder": "c_level",
    "president": "c_level",
    "owner": "c_level",
    "managing_director": "c_level",
    "general_counsel": "c_level",
    "general_manager": "c_level",
    "ceo": "c_level",
    "vp": "vp",
    "director": "director",
    "head": "director",
    "manager": "manager",
    "account_manager": "manager",
    "office_manager": "manager",
    "team_lead": "manager",
    "supervisor": "manager",
}
# Role nouns that make a title an individual contributor's (absent any higher keyword).
_INDIVIDUAL_WORDS: Final = frozenset(
    [
        "engineer",
        "developer",
        "specialist",
        "analyst",
        "representative",
        "coordinator",
        "designer",
        "designer_product",
        "writer",
        "copywriter",
        "scientist",
        "administrator",
        "accountant",
        "recruiter",
        "generalist",
        "intern",
        "assistant",
        "executive_assistant",
        "sre",
        "consultant",
        "architect",
        "strategist",
        "sdr",
        "bdr",
        "account_executive",
        "paralegal",
        "programmer",
        "researcher",
        "technician",
        "marketer",
        "bookkeeper",
        "controller",
        "attorney",
        "lawyer",
        "counsel",
        "buyer",
        "planner",
        "editor",
        "producer",
        "officer",
        "agent",
        "advocate",
        "product_owner",
        "hacker",
        "teacher",
        "nurse",
    ]
)
# Role nouns that are an individual's only beside an area ("Talent Acquisition Partner"; a
# "Partner" alone may own the firm).
_AREA_ROLE_WORDS: Final = frozenset({"partner", "associate"})
_CHIEFS: Final = {
    "ceo": "executive",
    "cto": "engineering",
    "cio": "it",
    "ciso": "it",
    "cso": "it",
    "cfo": "finance",
    "coo": "operations",
    "cmo": "marketing",
    "cro": "sales",
    "cpo": "product",
    "cdo": "data",
    "chro": "hr",
    "cco": "customer_success",
    "clo": "legal",
}
# Area words: the first one a title names is its function.
_AREAS: Final = {
    "engineering": "engineering",
    "software": "engineering",
    "devops": "engineering",
    "sre": "engineering",
    "qa": "engineering",
    "frontend": "engineering",
    "backend": "engineering",
    "fullstack": "engineering",
    "platform": "engineering",
    "technology": "engineering",
    "it": "it",
    "infrastructure": "it",
    "network": "it",
    "systems": "it",
    "security": "it",
    "infosec": "it",
    "helpdesk": "it",
    "cybersecurity": "it",
    "product": "product",
    "product_owner": "product",
    "design": "design",
    "ux": "design",
    "creative": "design",
    "graphic": "design",
    "designer_product": "design",
    "data": "data",
    "analytics": "data",
    "bi": "data",
    "insights": "data",
    "marketing": "marketing",
    "growth": "marketing",
    "demand": "marketing",
    "content": "marketing",
    "seo": "marketing",
    "sem": "marketing",
    "search": "marketing",
    "organic": "marketing",
    "brand": "marketing",
    "digital": "marketing",
    "communications": "marketing",
    "pr": "marketing",
    "copywriter": "marketing",
    "marketer": "marketing",
    "sales": "sales",
    "bd": "sales",
    "sdr": "sales",
    "bdr": "sales",
    "account_executive": "sales",
    "account_manager": "sales",
    "partnerships": "sales",
    "channel": "sales",
    "revenue": "sales",
    "customer_success": "customer_success",
    "support": "customer_success",
    "onboarding": "customer_success",
    "cx": "customer_success",
    "finance": "finance",
    "financial": "finance",
    "accounting": "finance",
    "accountant": "finance",
    "billing": "finance",
    "controller": "finance",
    "treasury": "finance",
    "payroll": "finance",
    "bookkeeper": "finance",
    "operations": "operations",
    "operating": "operations",
    "revenue_operations": "operations",
    "procurement": "operations",
    "executive_assistant": "operations",
    "office": "operations",
    "office_manager": "operations",
    "hr": "hr",
    "people": "hr",
    "talent": "hr",
    "recruiter": "hr",
    "recruiting": "hr",
    "recruitment": "hr",
    "legal": "legal",
    "general_counsel": "legal",
    "counsel": "legal",
    "paralegal": "legal",
    "compliance": "legal",
    "contracts": "legal",
    "contract": "legal",
    "privacy": "legal",
    "attorney": "legal",
    "lawyer": "legal",
}
# Role nouns whose function counts only when the title names no area.
_WEAK_AREAS: Final = {
    "engineer": "engineering",
    "developer": "engineering",
    "programmer": "engineering",
    "architect": "engineering",
    "designer": "design",
    "scientist": "data",
    "writer": "marketing",
    "strategist": "marketing",
    "administrator": "it",
    "generalist": "hr",
    "customer": "customer_success",
    "information": "it",
    "technical": "engineering",
}
# Whoever runs the company, unless a chief's own function says more.
_EXECUTIVE_WORDS: Final = frozenset(
    {"founder", "president", "owner", "managing_director", "general_manager"}
)
_PUNCTUATION: Final = str.maketrans(
    {
        ".": "",
        "'": "",
        ",": " ",
        "&": " ",
        "/": " ",
        "-": " ",
        "–": " ",
        "(": " ",
        ")": " ",
        "|": " ",
        ":": " ",
        ";": " ",
        "+": " ",
        "@": " ",
        "_": " ",
    }
)
_SPECIALS: Final = (("fp&a", "fpa"), ("r&d", "rnd"), ("p&l", "pnl"), ("l&d", "hr"))


def _tokens(title: str) -> list[str]:
    """The title's words, abbreviations expanded and two-word phrases joined."""
    text = title.lower()
    if "&" in text:
        for raw, joined in _SPECIALS:
            text = text.replace(raw, joined)
    words = [_ABBREVIATIONS.get(word, word) for word in text.translate(_PUNCTUATION).split()]
    if _PHRASE_STARTS.isdisjoint(words):
        return words
    tokens: list[str] = []
    index, last = 0, len(words) - 1
    while index <= last:
        word = words[index]
        if index < last and word in _PHRASE_STARTS:
            phrase = _PHRASES.get((word, words[index + 1]))
            if phrase is not None:
                tokens.append(phrase)
                index += 2
                continue
        tokens.append(word)
        index += 1
    return tokens


def _seniority(tokens: list[str]) -> str | None:
    best: str | None = None
    for position, token in enumerate(tokens):
        level = _SENIORITY_WORDS.get(token)
        if level is None:
            if token in _CHIEFS:
                level = "c_level"
            elif token == "lead":
                level = "individual" if position == 0 else "manager"
            elif token in _INDIVIDUAL_WORDS or (
                token in _AREA_ROLE_WORDS and any(t in _AREAS for t in tokens)
            ):
                level = "individual"
            else:
                continue
        if best is None or _RANK[level] > _RANK[best]:
            best = level
    if best is not None and ("assistant" in tokens or "executive_assistant" in tokens):
        return "individual"  # an assistant to the CEO is not the CEO
    return best


def _function(tokens: list[str]) -> str:
    weak: str | None = None
    executive = False
    for position, token in enumerate(tokens):
        chief = _CHIEFS.get(token)
        if chief is not None:
            return chief
        if token == "chief":  # "Chief Marketing Officer": the area follows
            for following in tokens[position + 1 :]:
                area = _AREAS.get(following) or _WEAK_AREAS.get(following)
                if area is not None:
                    return area
            executive = True
            continue
        area = _AREAS.get(token)
        if area is not None:
            return area
        if token in _EXECUTIVE_WORDS:
            executive = True
        elif weak is None:
            weak = _WEAK_AREAS.get(token)
    if executive:
        return "executive"
    return weak or "other"


@functools.lru_cache(maxsize=65_536)
def classify_title(title: str | None) -> TitleClass:
    """The seniority and function a job title says (DESIGN §8); unknown → (None, "other")."""
    if not title:
        return TitleClass(None, "other")
    tokens = _tokens(title)
    return TitleClass(_seniority(tokens), _function(tokens))


# A CRM's explicit buying role (HubSpot hs_buying_role values, Salesforce OpportunityContactRole
# roles), and the seniority or function it vouches for where the title says nothing.
_ROLE_SENIORITY: Final = {
    "executive_sponsor": "c_level",
    "budget_holder": "vp",
    "economic_buyer": "vp",
    "economic_decision_maker": "vp",
    "decision_maker": "director",
    "end_user": "individual",
    "business_user": "individual",
}
_ROLE_FUNCTION: Final = {
    "legal_and_compliance": "legal",
    "technical_buyer": "engineering",
}


def classify_contact(title: str | None, buying_role: str | None) -> TitleClass:
    """The title's answer, completed by the CRM's explicit buying role where it says more
    (a title that names no seniority, or no function)."""
    verdict = classify_title(title)
    if not buying_role:
        return verdict
    # HubSpot's hs_buying_role is a multi-select (";"-separated codes): its first known role.
    roles = (
        "_".join(part.lower().replace("&", " and ").split()) for part in buying_role.split(";")
    )
    role = next((r for r in roles if r in _ROLE_SENIORITY or r in _ROLE_FUNCTION), "")
    seniority = verdict.seniority or _ROLE_SENIORITY.get(role)
    function = verdict.function
    if function == "other":
        function = _ROLE_FUNCTION.get(role, function)
    return TitleClass(seniority, function)
