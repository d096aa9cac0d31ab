"""The org's objects and their fields: data, as Salesforce's Object Reference documents them for a
Developer Edition org (API v62.0); the behaviour is FieldSpec's (fields.py) and ObjectSchema's
(schema.py).

Each object's fields are one table, one field a line, in describe order:
``name | type | label | size | flags``. ``size`` is a text length, a number's
``precision,scale``, or an int's digits. Flags: ``readonly`` (neither createable nor updateable),
``createonly``, ``notnull`` (not nillable), ``required`` (a value is needed on create and cannot be
cleared), ``name`` (the name field), ``restricted`` (restricted picklist), ``pick:<list>`` (its
values, from :data:`PICKLISTS`), ``ref:<Object>.<Relationship>``, ``in:<compound field>``.
"""

from __future__ import annotations

from typing import Final

from connectors.sandbox.common.demo_data import INDUSTRIES, TECHNOLOGIES
from connectors.sandbox.common.demo_people import CONTACT_ROLES
from connectors.sandbox.salesforce.fields import FieldSpec

__all__ = [
    "ACCOUNT_TYPES",
    "CHILD_RELATIONSHIPS",
    "CUSTOM_DEMO_FIELDS",
    "HISTORY_TRACKED",
    "OBJECTS",
    "PICKLISTS",
    "STAGES",
    "WRITEBACK_FIELDS",
    "ObjectInfo",
    "custom_field_catalog",
    "standard_fields",
]

ACCOUNT_TYPES: Final = (
    "Prospect",
    "Customer - Direct",
    "Customer - Channel",
    "Channel Partner / Reseller",
    "Installation Partner",
    "Technology Partner",
    "Other",
)
FUNDING_STAGES: Final = (
    "Bootstrapped",
    "Seed",
    "Series A",
    "Series B",
    "Series C",
    "Growth",
    "IPO",
)
# Stage, probability, closed, won, forecast category: Salesforce's default sales process.
STAGES: Final[tuple[tuple[str, int, bool, bool, str], ...]] = (
    ("Prospecting", 10, False, False, "Pipeline"),
    ("Qualification", 10, False, False, "Pipeline"),
    ("Needs Analysis", 20, False, False, "Pipeline"),
    ("Value Proposition", 50, False, False, "Pipeline"),
    ("Id. Decision Makers", 60, False, False, "Pipeline"),
    ("Perception Analysis", 70, False, False, "Pipeline"),
    ("Proposal/Price Quote", 75, False, False, "Pipeline"),
    ("Negotiation/Review", 90, False, False, "Pipeline"),
    ("Closed Won", 100, True, True, "Closed"),
    ("Closed Lost", 0, True, False, "Omitted"),
)
_SOURCES: Final = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
_GEOCODE: Final = (
    "Address",
    "NearAddress",
    "Block",
    "Street",
    "ExtendedZip",
    "Zip",
    "Neighborhood",
    "City",
    "County",
    "State",
    "Unknown",
)
_CLEAN: Final = (
    "Matched",
    "Different",
    "Acknowledged",
    "NotFound",
    "Inactive",
    "Pending",
    "SelectMatch",
    "Skipped",
)
# Field History Tracking as an admin would switch it on for Account: these fields get an
# AccountHistory row on every change, under the name history gives them.
HISTORY_TRACKED: Final = {
    "Name": "Name",
    "OwnerId": "Owner",
    "ParentId": "Parent",
    "Type": "Type",
    "Industry": "Industry",
    "AnnualRevenue": "AnnualRevenue",
    "NumberOfEmployees": "NumberOfEmployees",
    "Rating": "Rating",
    "Website": "Website",
    "Phone": "Phone",
    "AccountNumber": "AccountNumber",
    "Ownership": "Ownership",
}
PICKLISTS: Final[dict[str, tuple[str, ...]]] = {
    "account_type": ACCOUNT_TYPES,
    "industry": tuple(label for label, _ in INDUSTRIES),
    "ownership": ("Public", "Private", "Subsidiary", "Other"),
    "rating": ("Hot", "Warm", "Cold"),
    "source": _SOURCES,
    "geocode": _GEOCODE,
    "clean": _CLEAN,
    "salutation": ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", "Mx."),
    "stage": tuple(stage for stage, *_ in STAGES),
    "opportunity_type": (
        "New Customer",
        "Existing Customer - Upgrade",
        "Existing Customer - Replacement",
        "Existing Customer - Downgrade",
    ),
    "forecast": ("Omitted", "Pipeline", "Best Case", "Commit", "Closed"),
    "contact_role": CONTACT_ROLES,
    "history_field": (*dict.fromkeys(HISTORY_TRACKED.values()), "created"),
    "history_type": ("Text", "Number", "Currency", "Picklist", "EntityId", "Url", "Phone"),
    "user_type": ("Standard", "PowerPartner", "CsnOnly", "Guest"),
    "time_zone": ("America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Berlin"),
    "locale": ("en_US", "en_GB", "de_DE", "fr_FR"),
    "language": ("en_US", "de", "fr", "es"),
    "encoding": ("UTF-8", "ISO-8859-1"),
    "funding": FUNDING_STAGES,
    "technology": TECHNOLOGIES,
    "tier": ("A", "B", "C", "D"),
}

_HEAD: Final = """
Id | id | {label} ID | 18 | readonly notnull
IsDeleted | boolean | Deleted | | readonly notnull
"""
_STAMPS: Final = """
CreatedDate | datetime | Created Date | | readonly notnull
CreatedById | reference | Created By ID | 18 | readonly notnull ref:User.CreatedBy
LastModifiedDate | datetime | Last Modified Date | | readonly notnull
LastModifiedById | reference | Last Modified By ID | 18 | readonly notnull ref:User.LastModifiedBy
SystemModstamp | datetime | System Modstamp | | readonly notnull
"""
_OWNER: Final = "OwnerId | reference | Owner ID | 18 | notnull ref:User.Owner\n"


def _address(prefix: str, label: str, compound: str) -> str:
    """The parts of a compound address field, then the compound field itself."""
    part = f"in:{compound}"
    return f"""
{prefix}Street | textarea | {label} Street | 255 | {part}
{prefix}City | string | {label} City | 40 | {part}
{prefix}State | string | {label} State/Province | 80 | {part}
{prefix}PostalCode | string | {label} Zip/Postal Code | 20 | {part}
{prefix}Country | string | {label} Country | 80 | {part}
{prefix}Latitude | double | {label} Latitude | 18,15 | {part}
{prefix}Longitude | double | {label} Longitude | 18,15 | {part}
{prefix}GeocodeAccuracy | picklist | {label} Geocode Accuracy | 40 | pick:geocode restricted {part}
{compound} | address | {label} Address | | readonly
"""


_ACCOUNT: Final = (
    _HEAD.format(label="Account")
    + """
MasterRecordId | reference | Master Record ID | 18 | readonly ref:Account.MasterRecord
Name | string | Account Name | 255 | required name
Type | picklist | Account Type | 255 | pick:account_type
ParentId | reference | Parent Account ID | 18 | ref:Account.Parent
"""
    + _address("Billing", "Billing", "BillingAddress")
    + _address("Shipping", "Shipping", "ShippingAddress")
    + """
Phone | phone | Account Phone | 40 |
Fax | phone | Account Fax | 40 |
AccountNumber | string | Account Number | 40 |
Website | url | Website | 255 |
PhotoUrl | url | Photo URL | 255 | readonly
Sic | string | SIC Code | 20 |
Industry | picklist | Industry | 255 | pick:industry
AnnualRevenue | currency | Annual Revenue | 18,0 |
NumberOfEmployees | int | Employees | 8 |
Ownership | picklist | Ownership | 255 | pick:ownership
TickerSymbol | string | Ticker Symbol | 20 |
Description | textarea | Account Description | 32000 |
Rating | picklist | Account Rating | 255 | pick:rating
Site | string | Account Site | 80 |
"""
    + _OWNER
    + _STAMPS
    + """
LastActivityDate | date | Last Activity | | readonly
LastViewedDate | datetime | Last Viewed Date | | readonly
LastReferencedDate | datetime | Last Referenced Date | | readonly
Jigsaw | string | Data.com Key | 20 |
JigsawCompanyId | string | Jigsaw Company ID | 20 | readonly
CleanStatus | picklist | Clean Status | 40 | pick:clean restricted
AccountSource | picklist | Account Source | 255 | pick:source
DunsNumber | string | D-U-N-S Number | 9 |
Tradestyle | string | Tradestyle | 255 |
NaicsCode | string | NAICS Code | 8 |
NaicsDesc | string | NAICS Description | 120 |
YearStarted | string | Year Started | 4 |
SicDesc | string | SIC Description | 80 |
DandbCompanyId | reference | D&B Company ID | 18 | ref:DandBCompany.DandbCompany
OperatingHoursId | reference | Operating Hour ID | 18 | ref:OperatingHours.OperatingHours
"""
)
_CONTACT: Final = (
    _HEAD.format(label="Contact")
    + """
MasterRecordId | reference | Master Record ID | 18 | readonly ref:Contact.MasterRecord
AccountId | reference | Account ID | 18 | ref:Account.Account
LastName | string | Last Name | 80 | required
FirstName | string | First Name | 40 |
Salutation | picklist | Salutation | 40 | pick:salutation
Name | string | Full Name | 121 | readonly notnull name
"""
    + _address("Other", "Other", "OtherAddress")
    + _address("Mailing", "Mailing", "MailingAddress")
    + """
Phone | phone | Business Phone | 40 |
Fax | phone | Business Fax | 40 |
MobilePhone | phone | Mobile Phone | 40 |
HomePhone | phone | Home Phone | 40 |
OtherPhone | phone | Other Phone | 40 |
AssistantPhone | phone | Asst. Phone | 40 |
ReportsToId | reference | Reports To ID | 18 | ref:Contact.ReportsTo
Email | email | Email | 80 |
Title | string | Title | 128 |
Department | string | Department | 80 |
AssistantName | string | Assistant's Name | 40 |
LeadSource | picklist | Lead Source | 255 | pick:source
Birthdate | date | Birthdate | |
Description | textarea | Contact Description | 32000 |
"""
    + _OWNER
    + """
HasOptedOutOfEmail | boolean | Email Opt Out | | notnull
HasOptedOutOfFax | boolean | Fax Opt Out | | notnull
DoNotCall | boolean | Do Not Call | | notnull
"""
    + _STAMPS
    + """
LastActivityDate | date | Last Activity | | readonly
LastCURequestDate | datetime | Last Stay-in-Touch Request Date | | readonly
LastCUUpdateDate | datetime | Last Stay-in-Touch Save Date | | readonly
LastViewedDate | datetime | Last Viewed Date | | readonly
LastReferencedDate | datetime | Last Referenced Date | | readonly
EmailBouncedReason | string | Email Bounced Reason | 255 |
EmailBouncedDate | datetime | Email Bounced Date | |
IsEmailBounced | boolean | Is Email Bounced | | readonly notnull
PhotoUrl | url | Photo URL | 255 | readonly
Jigsaw | string | Data.com Key | 20 |
JigsawContactId | string | Jigsaw Contact ID | 20 | readonly
CleanStatus | picklist | Clean Status | 40 | pick:clean restricted
IndividualId | reference | Individual ID | 18 | ref:Individual.Individual
"""
)
_OPPORTUNITY: Final = (
    _HEAD.format(label="Opportunity")
    + """
AccountId | reference | Account ID | 18 | ref:Account.Account
IsPrivate | boolean | Private | | notnull
Name | string | Name | 120 | required name
Description | textarea | Description | 32000 |
StageName | picklist | Stage | 255 | required pick:stage restricted
Amount | currency | Amount | 18,2 |
Probability | percent | Probability (%) | 3,0 |
ExpectedRevenue | currency | Expected Amount | 18,2 | readonly
TotalOpportunityQuantity | double | Quantity | 18,2 |
CloseDate | date | Close Date | | required
Type | picklist | Opportunity Type | 255 | pick:opportunity_type
NextStep | string | Next Step | 255 |
LeadSource | picklist | Lead Source | 255 | pick:source
IsClosed | boolean | Closed | | readonly notnull
IsWon | boolean | Won | | readonly notnull
ForecastCategory | picklist | Forecast Category | 40 | readonly notnull pick:forecast restricted
ForecastCategoryName | picklist | Forecast Category | 255 | pick:forecast restricted
CampaignId | reference | Campaign ID | 18 | ref:Campaign.Campaign
HasOpportunityLineItem | boolean | Has Line Item | | readonly notnull
Pricebook2Id | reference | Price Book ID | 18 | ref:Pricebook2.Pricebook2
"""
    + _OWNER
    + _STAMPS
    + """
LastActivityDate | date | Last Activity | | readonly
LastStageChangeDate | datetime | Last Stage Change Date | | readonly
ContactId | reference | Contact ID | 18 | ref:Contact.Contact
LastViewedDate | datetime | Last Viewed Date | | readonly
LastReferencedDate | datetime | Last Referenced Date | | readonly
HasOpenActivity | boolean | Has Open Activity | | readonly notnull
HasOverdueTask | boolean | Has Overdue Task | | readonly notnull
"""
)
_CONTACT_ROLE: Final = (
    _HEAD.format(label="Contact Role")
    + """
OpportunityId | reference | Opportunity ID | 18 | required createonly ref:Opportunity.Opportunity
ContactId | reference | Contact ID | 18 | required ref:Contact.Contact
Role | picklist | Role | 40 | pick:contact_role
IsPrimary | boolean | Primary | | notnull
"""
    + _STAMPS
)
_USER: Final = (
    """
Id | id | User ID | 18 | readonly notnull
Username | string | Username | 80 | required idlookup
LastName | string | Last Name | 80 | required
FirstName | string | First Name | 40 |
MiddleName | string | Middle Name | 40 |
Suffix | string | Suffix | 40 |
Name | string | Full Name | 121 | readonly notnull name
CompanyName | string | Company Name | 80 |
Division | string | Division | 80 |
Department | string | Department | 80 |
Title | string | Title | 80 |
"""
    + _address("", "", "Address")
    + """
Email | email | Email | 128 | required
SenderEmail | email | Email Sender Address | 80 |
SenderName | string | Email Sender Name | 80 |
Signature | textarea | Email Signature | 1333 |
Phone | phone | Phone | 40 |
Fax | phone | Fax | 40 |
MobilePhone | phone | Mobile | 40 |
Alias | string | Alias | 8 | required
CommunityNickname | string | Nickname | 40 | required
IsActive | boolean | Active | | notnull
TimeZoneSidKey | picklist | Time Zone | 40 | required pick:time_zone restricted
UserRoleId | reference | Role ID | 18 | ref:UserRole.UserRole
LocaleSidKey | picklist | Locale | 40 | required pick:locale restricted
EmailEncodingKey | picklist | Email Encoding | 40 | required pick:encoding restricted
ProfileId | reference | Profile ID | 18 | required ref:Profile.Profile
UserType | picklist | User Type | 40 | readonly pick:user_type restricted
LanguageLocaleKey | picklist | Language | 40 | required pick:language restricted
EmployeeNumber | string | Employee Number | 20 |
ManagerId | reference | Manager ID | 18 | ref:User.Manager
LastLoginDate | datetime | Last Login | | readonly
"""
    + _STAMPS
    + """
AboutMe | textarea | About Me | 1000 |
IsProfilePhotoActive | boolean | Has Profile Photo | | readonly notnull
LastViewedDate | datetime | Last Viewed Date | | readonly
LastReferencedDate | datetime | Last Referenced Date | | readonly
"""
)
_ACCOUNT_HISTORY: Final = (
    _HEAD.format(label="Account History")
    + """
AccountId | reference | Account ID | 18 | readonly notnull ref:Account.Account
CreatedById | reference | Created By ID | 18 | readonly notnull ref:User.CreatedBy
CreatedDate | datetime | Created Date | | readonly notnull
Field | picklist | Changed Field | 255 | readonly notnull pick:history_field restricted
DataType | picklist | Data Type | 40 | readonly pick:history_type restricted
OldValue | anyType | Old Value | |  readonly
NewValue | anyType | New Value | |  readonly
"""
)


class ObjectInfo:
    """One standard object: its API name, plural label, key prefix, fields and abilities."""

    def __init__(
        self, name: str, plural: str, prefix: str, table: str, *, writable: bool = True
    ) -> None:
        self.name = name
        self.plural = plural
        self.prefix = prefix
        self.table = table
        self.writable = writable  # createable, updateable, deletable through the API


OBJECTS: Final = (
    ObjectInfo("Account", "Accounts", "001", _ACCOUNT),
    ObjectInfo("Contact", "Contacts", "003", _CONTACT),
    ObjectInfo("Opportunity", "Opportunities", "006", _OPPORTUNITY),
    ObjectInfo("OpportunityContactRole", "Opportunity Contact Role", "00K", _CONTACT_ROLE),
    ObjectInfo("User", "Users", "005", _USER, writable=False),
    ObjectInfo("AccountHistory", "Account History", "017", _ACCOUNT_HISTORY, writable=False),
)
# Parent, relationship name, child, the child's field, cascade delete: what a child subquery
# may name and what deleting a parent takes with it.
CHILD_RELATIONSHIPS: Final = (
    ("Account", "ChildAccounts", "Account", "ParentId", False),
    ("Account", "Contacts", "Contact", "AccountId", True),
    ("Account", "Opportunities", "Opportunity", "AccountId", True),
    ("Account", "Histories", "AccountHistory", "AccountId", True),
    ("Contact", "OpportunityContactRoles", "OpportunityContactRole", "ContactId", True),
    ("Opportunity", "OpportunityContactRoles", "OpportunityContactRole", "OpportunityId", True),
)


def _spec(line: str) -> FieldSpec:
    name, kind, label, size, flags_text = (part.strip() for part in line.split("|"))
    flags = flags_text.split()
    options: dict[str, str] = {}
    for flag in flags:
        key, _, value = flag.partition(":")
        if value:
            options[key] = value
    numeric = kind in ("double", "currency", "percent")
    precision, _, scale = size.partition(",") if numeric else ("", "", "")
    sized_text = bool(size) and not numeric and kind != "int"
    readonly = "readonly" in flags
    reference = options.get("ref", "")
    target, _, relationship = reference.partition(".")
    return FieldSpec(
        name,
        kind,
        label,
        custom=name.endswith("__c"),
        length=int(size) if sized_text else 0,
        precision=int(precision or 18) if numeric else 0,
        scale=int(scale or 0),
        digits=int(size) if kind == "int" else 0,
        nillable=not ({"notnull", "required"} & set(flags)),
        createable=not readonly,
        updateable=not readonly and "createonly" not in flags,
        required="required" in flags,
        picklist=PICKLISTS[options["pick"]] if "pick" in options else (),
        restricted="restricted" in flags,
        reference_to=(target,) if target else (),
        relationship_name=relationship or None,
        name_field="name" in flags,
        id_lookup="idlookup" in flags,
        compound=options.get("in"),
        # Salesforce marks every long text area this way unless it allows rich text.
        extra_type_info="plaintextarea" if kind == "textarea" else None,
    )


def standard_fields(info: ObjectInfo) -> list[FieldSpec]:
    """The standard fields of one object, in describe order."""
    lines = [line for line in info.table.splitlines() if line.strip()]
    return [_spec(line) for line in lines]


CUSTOM_DEMO_FIELDS: Final[tuple[FieldSpec, ...]] = tuple(
    _spec(line)
    for line in """
Funding_Stage__c | picklist | Funding Stage | 255 | pick:funding
Total_Funding__c | currency | Total Funding | 18,0 |
Founded_Year__c | double | Founded Year | 4,0 |
Has_Inhouse_SEO__c | boolean | Has In-house SEO | | notnull
Is_Competitor__c | boolean | Is Competitor | | notnull
NPS__c | double | NPS | 2,0 |
Tech_Stack__c | multipicklist | Tech Stack | 4099 | pick:technology
""".strip().splitlines()
)
WRITEBACK_FIELDS: Final[tuple[FieldSpec, ...]] = tuple(
    _spec(line)
    for line in """
ICP_Fit_Score__c | double | ICP Fit Score | 3,0 |
ICP_Tier__c | picklist | ICP Tier | 255 | pick:tier restricted
ICP_Is_MQL__c | boolean | ICP Is MQL | | notnull
ICP_Is_SQL__c | boolean | ICP Is SQL | | notnull
ICP_Fit_Reasons__c | textarea | ICP Fit Reasons | 32768 |
ICP_Version__c | string | ICP Version | 255 |
ICP_Scored_At__c | datetime | ICP Scored At | |
""".strip().splitlines()
)


def custom_field_catalog() -> dict[str, FieldSpec]:
    """Every custom Account field the sandbox knows how to (re)create, by name."""
    return {spec.name: spec for spec in (*CUSTOM_DEMO_FIELDS, *WRITEBACK_FIELDS)}
