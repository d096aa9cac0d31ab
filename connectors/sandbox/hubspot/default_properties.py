# ruff: noqa: E501
# (one property a row reads better than rows wrapped at 100 columns)
"""The properties a fresh HubSpot portal has for each standard object, as data tables.

One table per object type, one row per property: ``name  type  fieldType  group  flags  options
label`` (``-`` for none). Flags: ``r`` read-only value, ``c`` calculated, ``u`` unique values,
``x`` external options (owners), ``h`` hidden. ``options`` names an option list of
``property_specs.OPTION_LISTS``. Groups come first, as ``@group name  label`` rows. The names,
types and groups follow HubSpot's published default properties; the sandbox's demo-only custom
properties are not here (``property_specs.DEMO_COMPANY_SPECS``): a pristine portal lacks them.
"""

from __future__ import annotations

from typing import Final

__all__ = ["TABLES"]

_LIFECYCLE: Final = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)


def _lifecycle_rows(group: str) -> str:
    """``hs_date_entered_*``, ``hs_date_exited_*`` and ``hs_time_in_*`` of each lifecycle stage."""
    rows = []
    for stage in _LIFECYCLE:
        rows.append(f"hs_date_entered_{stage} datetime date {group} rc - Date entered '{stage}'")
        rows.append(f"hs_date_exited_{stage} datetime date {group} rc - Date exited '{stage}'")
        rows.append(f"hs_time_in_{stage} number number {group} rc - Time in '{stage}'")
    return "\n".join(rows)


_ANALYTICS: Final = """
hs_analytics_first_timestamp datetime date analyticsinformation rc - Time First Seen
hs_analytics_first_visit_timestamp datetime date analyticsinformation rc - Time of First Session
hs_analytics_last_timestamp datetime date analyticsinformation rc - Time Last Seen
hs_analytics_last_visit_timestamp datetime date analyticsinformation rc - Time of Last Session
hs_analytics_num_page_views number number analyticsinformation rc - Number of Pageviews
hs_analytics_num_visits number number analyticsinformation rc - Number of Sessions
hs_analytics_source enumeration select analyticsinformation rc analytics_source Original Source Type
hs_analytics_source_data_1 string text analyticsinformation rc - Original Source Data 1
hs_analytics_source_data_2 string text analyticsinformation rc - Original Source Data 2
hs_analytics_latest_source enumeration select analyticsinformation rc analytics_source Latest Source
hs_analytics_latest_source_data_1 string text analyticsinformation rc - Latest Source Data 1
hs_analytics_latest_source_data_2 string text analyticsinformation rc - Latest Source Data 2
hs_analytics_latest_source_timestamp datetime date analyticsinformation rc - Latest Source Timestamp
"""

_OWNERSHIP: Final = """
hubspot_owner_id enumeration select {group} x owners {owner_label}
hubspot_owner_assigneddate datetime date {group} rc - Owner Assigned Date
hubspot_team_id enumeration select {group} r teams HubSpot Team
hs_all_owner_ids enumeration checkbox {group} rc owners All owner IDs
hs_all_team_ids enumeration checkbox {group} rc teams All team IDs
hs_all_accessible_team_ids enumeration checkbox {group} rc teams All teams
hs_created_by_user_id number number {group} r - Created by user ID
hs_updated_by_user_id number number {group} r - Updated by user ID
hs_merged_object_ids enumeration checkbox {group} r - Merged record IDs
hs_object_source string text {group} r - Record source
hs_object_source_id string text {group} r - Record source ID
hs_object_source_label enumeration select {group} r object_source Record source label
hs_object_source_detail_1 string text {group} r - Record source detail 1
hs_object_source_detail_2 string text {group} r - Record source detail 2
hs_object_source_detail_3 string text {group} r - Record source detail 3
hs_object_source_user_id number number {group} r - Record creator user ID
hs_was_imported bool booleancheckbox {group} r bool Performed in an import
hs_pinned_engagement_id number number {group} - - Pinned Engagement ID
hs_read_only bool booleancheckbox {group} r bool Read only object
hs_user_ids_of_all_owners enumeration checkbox {group} rc - User IDs of all owners
hs_user_ids_of_all_notification_followers enumeration checkbox {group} r - User IDs of all notification followers
hs_user_ids_of_all_notification_unfollowers enumeration checkbox {group} r - User IDs of all notification unfollowers
"""

_ACTIVITY: Final = """
notes_last_contacted datetime date {group} rc - Last Contacted
notes_last_updated datetime date {group} rc - Last Activity Date
notes_next_activity_date datetime date {group} rc - Next Activity Date
num_contacted_notes number number {group} rc - Number of times contacted
num_notes number number {group} rc - Number of Sales Activities
hs_last_sales_activity_timestamp datetime date {group} rc - Last Engagement Date
hs_last_booked_meeting_date datetime date {group} rc - Last Booked Meeting Date
hs_last_logged_call_date datetime date {group} rc - Last Logged Call Date
hs_last_open_task_date datetime date {group} rc - Last Open Task Date
hs_latest_meeting_activity datetime date {group} rc - Latest meeting activity
hs_sales_email_last_replied datetime date {group} rc - Recent Sales Email Replied Date
engagements_last_meeting_booked datetime date {group} rc - Date of last meeting booked in meetings tool
engagements_last_meeting_booked_campaign string text {group} rc - Campaign of last booking in meetings tool
engagements_last_meeting_booked_medium string text {group} rc - Medium of last booking in meetings tool
engagements_last_meeting_booked_source string text {group} rc - Source of last booking in meetings tool
hs_next_activity_date datetime date {group} rc - Next activity date
hs_num_open_tasks number number {group} rc - Number of open tasks
"""


def _with(rows: str, *, group: str, owner_label: str = "Owner") -> str:
    return rows.format(group=group, owner_label=owner_label)


COMPANIES: Final = (
    """
@companyinformation Company information
@social_media_information Social media information
@analyticsinformation Web analytics history
@company_activity Company activity
@deal_information Deal information
@target_accounts Target accounts
createdate datetime date companyinformation - - Create Date
hs_lastmodifieddate datetime date companyinformation rc - Last Modified Date
hs_object_id number number companyinformation ru - Record ID
name string text companyinformation - - Company name
domain string text companyinformation - - Company Domain Name
hs_additional_domains enumeration checkbox companyinformation - - Additional Domains
website string text companyinformation - - Website URL
description string textarea companyinformation - - Description
about_us string textarea companyinformation - - About Us
phone string phonenumber companyinformation - - Phone Number
address string text companyinformation - - Street Address
address2 string text companyinformation - - Street Address 2
city string text companyinformation - - City
state string text companyinformation - - State/Region
zip string text companyinformation - - Postal Code
country string text companyinformation - - Country/Region
hs_country_code string text companyinformation r - Country/Region Code
hs_state_code string text companyinformation r - State/Region Code
timezone string text companyinformation - - Time Zone
industry enumeration select companyinformation - industry Industry
type enumeration select companyinformation - company_type Type
lifecyclestage enumeration radio companyinformation - lifecyclestage Lifecycle Stage
hs_lead_status enumeration select companyinformation - lead_status Lead Status
numberofemployees number number companyinformation - - Number of Employees
hs_employee_range enumeration select companyinformation - employee_range Employee range
annualrevenue number number companyinformation - - Annual Revenue
hs_revenue_range enumeration select companyinformation - revenue_range Revenue range
hs_annual_revenue_currency_code string text companyinformation - - Annual Revenue Currency Code
total_money_raised number number companyinformation - - Total Money Raised
founded_year string text companyinformation - - Year Founded
is_public bool booleancheckbox companyinformation - bool Is Public
web_technologies enumeration checkbox companyinformation - web_technologies Web Technologies
hs_keywords enumeration checkbox companyinformation - - Keywords
hs_logo_url string text companyinformation - - Logo URL
hs_avatar_filemanager_key string text companyinformation r - Avatar FileManager key
hs_ideal_customer_profile enumeration radio companyinformation - ideal_customer_profile Ideal Customer Profile Tier
hs_parent_company_id number number companyinformation r - Parent Company
hs_num_child_companies number number companyinformation rc - Number of child companies
num_associated_contacts number number companyinformation rc - Number of Associated Contacts
num_associated_deals number number deal_information rc - Number of Associated Deals
hs_num_contacts_with_buying_roles number number companyinformation rc - Number of contacts with a buying role
hs_num_decision_makers number number companyinformation rc - Number of decision makers
hs_num_blockers number number companyinformation rc - Number of blockers
first_contact_createdate datetime date companyinformation rc - First Contact Create Date
closedate datetime date companyinformation - - Close Date
linkedin_company_page string text social_media_information - - LinkedIn Company Page
linkedinbio string textarea social_media_information - - LinkedIn Bio
facebook_company_page string text social_media_information - - Facebook Company Page
facebookfans number number social_media_information - - Facebook Fans
twitterhandle string text social_media_information - - Twitter Handle
twitterbio string textarea social_media_information - - Twitter Bio
twitterfollowers number number social_media_information - - Twitter Followers
googleplus_page string text social_media_information - - Google Plus Page
hs_num_open_deals number number deal_information rc - Number of open deals
total_revenue number number deal_information rc - Total Revenue
hs_total_deal_value number number deal_information rc - Total open deal value
recent_deal_amount number number deal_information rc - Recent Deal Amount
recent_deal_close_date datetime date deal_information rc - Recent Deal Close Date
first_deal_created_date datetime date deal_information rc - First Deal Created Date
days_to_close number number deal_information rc - Days to Close
hs_is_target_account bool booleancheckbox target_accounts - bool Target Account
hs_target_account enumeration select target_accounts - target_account Target Account (deprecated)
hs_target_account_probability number number target_accounts rc - Target Account Probability
hs_target_account_recommendation_state enumeration select target_accounts r target_recommendation Target Account Recommendation State
hs_pipeline enumeration select companyinformation - company_pipeline Pipeline
hs_analytics_first_touch_converting_campaign string text analyticsinformation rc - First Touch Converting Campaign
hs_analytics_last_touch_converting_campaign string text analyticsinformation rc - Last Touch Converting Campaign
hs_is_enriched bool booleancheckbox companyinformation r bool Has been enriched
hs_last_metered_enrichment_timestamp datetime date companyinformation r - Last Metered Enrichment Timestamp
hs_linkedin_handle string text social_media_information - - LinkedIn handle
hs_unique_creation_key string text companyinformation ru - Unique creation key
hs_source_object_id number number companyinformation r - Source Object ID
hs_quick_context string textarea companyinformation r - Quick context
hs_latest_createdate_of_active_subscriptions datetime date companyinformation rc - Latest create date of active subscriptions
hs_task_label string text companyinformation rc - Task label
"""
    + _ANALYTICS
    + _with(_OWNERSHIP, group="companyinformation", owner_label="Company owner")
    + _with(_ACTIVITY, group="company_activity")
    + _lifecycle_rows("companyinformation")
)

CONTACTS: Final = (
    """
@contactinformation Contact information
@emailinformation Email information
@analyticsinformation Web analytics history
@conversioninformation Conversion information
@contact_activity Contact activity
@deal_information Deal information
@sales_properties Sales properties
@socialmediainformation Social media information
createdate datetime date contactinformation - - Create Date
lastmodifieddate datetime date contactinformation rc - Last Modified Date
hs_object_id number number contactinformation ru - Record ID
firstname string text contactinformation - - First Name
lastname string text contactinformation - - Last Name
salutation string text contactinformation - - Salutation
email string text contactinformation - - Email
hs_additional_emails enumeration checkbox contactinformation r - Additional email addresses
work_email string text contactinformation - - Work email
phone string phonenumber contactinformation - - Phone Number
mobilephone string phonenumber contactinformation - - Mobile Phone Number
fax string phonenumber contactinformation - - Fax Number
hs_calculated_phone_number string text contactinformation rc - Calculated Phone Number
hs_searchable_calculated_phone_number string text contactinformation rc - Calculated Phone Number without country code
hs_whatsapp_phone_number string phonenumber contactinformation - - WhatsApp Phone Number
hs_full_name_or_email string text contactinformation rc - Full name or email
jobtitle string text contactinformation - - Job Title
job_function enumeration select contactinformation - job_function Job function
hs_role enumeration select contactinformation - employment_role Employment Role
hs_seniority enumeration select contactinformation - employment_seniority Employment Seniority
hs_buying_role enumeration checkbox sales_properties - buying_role Buying Role
company string text contactinformation - - Company Name
company_size string text contactinformation - - Company size
industry string text contactinformation - - Industry
annualrevenue string text contactinformation - - Annual Revenue
numemployees enumeration select contactinformation - numemployees Number of Employees
website string text contactinformation - - Website URL
address string text contactinformation - - Street Address
city string text contactinformation - - City
state string text contactinformation - - State/Region
zip string text contactinformation - - Postal Code
country string text contactinformation - - Country/Region
hs_country_region_code string text contactinformation r - Country/Region Code
hs_state_code string text contactinformation r - State/Region Code
hs_timezone enumeration select contactinformation - - Time Zone
hs_language enumeration select contactinformation - language Preferred language
date_of_birth string text contactinformation - - Date of birth
gender string text contactinformation - - Gender
marital_status string text contactinformation - - Marital Status
military_status string text contactinformation - - Military status
relationship_status string text contactinformation - - Relationship Status
degree string text contactinformation - - Degree
field_of_study string text contactinformation - - Field of study
school string text contactinformation - - School
graduation_date string text contactinformation - - Graduation date
start_date string text contactinformation - - Start date
message string textarea contactinformation - - Message
lifecyclestage enumeration radio contactinformation - lifecyclestage Lifecycle Stage
hs_lead_status enumeration radio sales_properties - lead_status Lead Status
hs_persona enumeration select contactinformation - persona Persona
associatedcompanyid number number contactinformation - - Primary Associated Company ID
associatedcompanylastupdated number number contactinformation rc - Associated Company Last Updated
hs_is_contact bool booleancheckbox contactinformation rc bool Is a contact
hs_is_unworked bool booleancheckbox contactinformation rc bool Contact unworked
hs_createdate datetime date contactinformation rc - Became a Contact Date
hs_marketable_status enumeration select contactinformation r marketable_status Marketing contact status
hs_predictivecontactscore_v2 number number contactinformation rc - Likelihood to close
hs_predictivescoringtier enumeration select contactinformation rc scoring_tier Contact priority
hs_time_to_first_engagement number number sales_properties rc - Time to first engagement
hs_sequences_is_enrolled bool booleancheckbox sales_properties rc bool Currently in Sequence
hs_sequences_enrolled_count number number sales_properties rc - Number of sequences enrolled
hs_sales_email_last_clicked datetime date sales_properties rc - Recent Sales Email Clicked Date
hs_sales_email_last_opened datetime date sales_properties rc - Recent Sales Email Opened Date
hs_email_optout bool booleancheckbox emailinformation r bool Unsubscribed from all email
hs_email_bounce number number emailinformation rc - Marketing emails bounced
hs_email_open number number emailinformation rc - Marketing emails opened
hs_email_click number number emailinformation rc - Marketing emails clicked
hs_email_delivered number number emailinformation rc - Marketing emails delivered
hs_email_last_open_date datetime date emailinformation rc - Last marketing email open date
hs_email_last_click_date datetime date emailinformation rc - Last marketing email click date
hs_email_last_send_date datetime date emailinformation rc - Last marketing email send date
hs_email_last_email_name string text emailinformation rc - Last marketing email name
hs_email_first_open_date datetime date emailinformation rc - First marketing email open date
hs_email_first_send_date datetime date emailinformation rc - First marketing email send date
hs_email_domain string text emailinformation rc - Email Domain
hs_emailconfirmationstatus enumeration select emailinformation r email_confirmation Email Confirmation Status
hs_analytics_average_page_views number number analyticsinformation rc - Average Pageviews
hs_analytics_revenue number number analyticsinformation rc - Event Revenue
hs_latest_source enumeration select analyticsinformation rc analytics_source Latest Traffic Source
hs_latest_source_data_1 string text analyticsinformation rc - Latest Traffic Source Drill-Down 1
hs_latest_source_data_2 string text analyticsinformation rc - Latest Traffic Source Drill-Down 2
hs_latest_source_timestamp datetime date analyticsinformation rc - Latest Traffic Source Date
first_conversion_date datetime date conversioninformation rc - First Conversion Date
first_conversion_event_name string text conversioninformation rc - First Conversion
recent_conversion_date datetime date conversioninformation rc - Recent Conversion Date
recent_conversion_event_name string text conversioninformation rc - Recent Conversion
num_conversion_events number number conversioninformation rc - Number of Form Submissions
num_unique_conversion_events number number conversioninformation rc - Number of Unique Forms Submitted
num_associated_deals number number deal_information rc - Number of Associated Deals
closedate datetime date deal_information rc - Close Date
days_to_close number number deal_information rc - Days To Close
total_revenue number number deal_information rc - Total Revenue
recent_deal_amount number number deal_information rc - Recent Deal Amount
recent_deal_close_date datetime date deal_information rc - Recent Deal Close Date
first_deal_created_date datetime date deal_information rc - First Deal Created Date
linkedinbio string textarea socialmediainformation - - LinkedIn Bio
hs_linkedin_url string text socialmediainformation - - LinkedIn URL
twitterhandle string text socialmediainformation - - Twitter Username
twitterbio string textarea socialmediainformation - - Twitter Bio
hs_pipeline enumeration select contactinformation - contact_pipeline Pipeline
"""
    + _ANALYTICS
    + _with(_OWNERSHIP, group="sales_properties", owner_label="Contact owner")
    + _with(_ACTIVITY, group="contact_activity")
    + _lifecycle_rows("contactinformation")
)

DEALS: Final = (
    """
@dealinformation Deal information
@deal_activity Deal activity
@dealstages Deal stage history
@analyticsinformation Web analytics history
createdate datetime date dealinformation - - Create Date
hs_lastmodifieddate datetime date dealinformation rc - Last Modified Date
hs_object_id number number dealinformation ru - Record ID
dealname string text dealinformation - - Deal Name
amount number number dealinformation - - Amount
amount_in_home_currency number number dealinformation rc - Amount in company currency
deal_currency_code enumeration select dealinformation - currency Currency
dealstage enumeration radio dealinformation - dealstage Deal Stage
pipeline enumeration select dealinformation - pipeline Pipeline
closedate datetime date dealinformation - - Close Date
dealtype enumeration radio dealinformation - dealtype Deal Type
description string textarea dealinformation - - Deal Description
hs_priority enumeration select dealinformation - priority Priority
hs_next_step string textarea dealinformation - - Next step
closed_lost_reason string textarea dealinformation - - Closed Lost Reason
closed_won_reason string textarea dealinformation - - Closed Won Reason
hs_is_closed bool booleancheckbox dealinformation rc bool Is Deal Closed?
hs_is_closed_won bool booleancheckbox dealinformation rc bool Is Closed Won
hs_is_closed_lost bool booleancheckbox dealinformation rc bool Is closed lost
hs_deal_stage_probability number number dealinformation rc - Deal probability
hs_forecast_amount number number dealinformation rc - Forecast amount
hs_forecast_probability number number dealinformation - - Forecast probability
hs_manual_forecast_category enumeration select dealinformation - forecast_category Forecast category
hs_projected_amount number number dealinformation rc - Weighted amount
hs_projected_amount_in_home_currency number number dealinformation rc - Weighted amount in company currency
hs_closed_amount number number dealinformation rc - Closed Deal Amount
hs_closed_amount_in_home_currency number number dealinformation rc - Closed Deal Amount In Home Currency
hs_acv number number dealinformation rc - Annual contract value
hs_arr number number dealinformation rc - Annual recurring revenue
hs_mrr number number dealinformation rc - Monthly recurring revenue
hs_tcv number number dealinformation rc - Total contract value
hs_createdate datetime date dealinformation rc - HubSpot Create Date
days_to_close number number dealinformation rc - Days to close
hs_days_to_close_raw number number dealinformation rc - Days to close (without rounding)
num_associated_contacts number number dealinformation rc - Number of Associated Contacts
hs_num_associated_deal_splits number number dealinformation rc - Number of deal splits
hs_num_of_associated_line_items number number dealinformation rc - Number of Associated Line Items
hs_num_target_accounts number number dealinformation rc - Number of target accounts
hs_is_deal_split bool booleancheckbox dealinformation rc bool Deal Split Added
hs_deal_amount_calculation_preference enumeration select dealinformation - amount_preference Deal amount calculation preference
hs_line_item_global_term_hs_discount_percentage string text dealinformation - - Global Term Line Item Discount Percentage
hs_line_item_global_term_hs_recurring_billing_period string text dealinformation - - Global Term Line Item Recurring Billing Period
hs_line_item_global_term_recurringbillingfrequency string text dealinformation - - Global Term Line Item Recurring Billing Frequency
hs_analytics_source enumeration select analyticsinformation rc analytics_source Original Source Type
hs_analytics_source_data_1 string text analyticsinformation rc - Original Source Data 1
hs_analytics_source_data_2 string text analyticsinformation rc - Original Source Data 2
hs_analytics_latest_source enumeration select analyticsinformation rc analytics_source Latest Source
hs_analytics_latest_source_data_1 string text analyticsinformation rc - Latest Source Data 1
hs_analytics_latest_source_data_2 string text analyticsinformation rc - Latest Source Data 2
hs_analytics_latest_source_timestamp datetime date analyticsinformation rc - Latest Source Timestamp
"""
    + _with(_OWNERSHIP, group="dealinformation", owner_label="Deal owner")
    + _with(_ACTIVITY, group="deal_activity")
    + "\n".join(
        f"hs_date_entered_{stage} datetime date dealstages rc - Date entered '{stage}'\n"
        f"hs_date_exited_{stage} datetime date dealstages rc - Date exited '{stage}'\n"
        f"hs_time_in_{stage} number number dealstages rc - Time in '{stage}'"
        for stage in (
            "appointmentscheduled",
            "qualifiedtobuy",
            "presentationscheduled",
            "decisionmakerboughtin",
            "contractsent",
            "closedwon",
            "closedlost",
        )
    )
)

_OWNED: Final = "hubspot_owner_id enumeration select {group} x owners Owner"


def _small(groups: str, created: str, rows: str, group: str) -> str:
    """A table for an object the sandbox keeps empty: its groups, system properties, rows."""
    return (
        groups
        + f"\n{created} datetime date {group} - - Create Date"
        + f"\nhs_lastmodifieddate datetime date {group} rc - Last Modified Date"
        + f"\nhs_object_id number number {group} ru - Record ID"
        + "\n"
        + _OWNED.format(group=group)
        + rows
    )


def _engagement(group: str, label: str, rows: str) -> str:
    return _small(
        f"@{group} {label}",
        "hs_createdate",
        "\nhs_timestamp datetime date " + group + " - - Activity date" + rows,
        group,
    )


TICKETS: Final = _small(
    "@ticketinformation Ticket information",
    "createdate",
    """
subject string text ticketinformation - - Ticket name
content string textarea ticketinformation - - Ticket description
hs_pipeline enumeration select ticketinformation - ticket_pipeline Pipeline
hs_pipeline_stage enumeration select ticketinformation - ticket_stage Ticket status
hs_ticket_priority enumeration select ticketinformation - ticket_priority Priority
hs_ticket_category enumeration checkbox ticketinformation - ticket_category Category
source_type enumeration select ticketinformation - ticket_source Source
closed_date datetime date ticketinformation - - Close date
hs_resolution enumeration checkbox ticketinformation - - Resolution
time_to_close number number ticketinformation rc - Time to close
""",
    "ticketinformation",
)
PRODUCTS: Final = _small(
    "@productinformation Product information",
    "createdate",
    """
name string text productinformation - - Name
description string textarea productinformation - - Description
price number number productinformation - - Unit price
hs_sku string text productinformation - - SKU
hs_cost_of_goods_sold number number productinformation - - Unit cost
hs_product_type enumeration select productinformation - product_type Product type
recurringbillingfrequency enumeration select productinformation - billing_frequency Billing frequency
hs_recurring_billing_period string text productinformation - - Term
hs_url string text productinformation - - URL
""",
    "productinformation",
)
LINE_ITEMS: Final = _small(
    "@lineiteminformation Line item information",
    "createdate",
    """
name string text lineiteminformation - - Name
description string textarea lineiteminformation - - Description
price number number lineiteminformation - - Unit price
quantity number number lineiteminformation - - Quantity
amount number number lineiteminformation rc - Net price
discount number number lineiteminformation - - Unit discount
hs_discount_percentage number number lineiteminformation - - Discount Percentage
hs_product_id number number lineiteminformation - - Product ID
hs_sku string text lineiteminformation - - SKU
recurringbillingfrequency enumeration select lineiteminformation - billing_frequency Billing frequency
hs_recurring_billing_period string text lineiteminformation - - Term
""",
    "lineiteminformation",
)
CALLS: Final = _engagement(
    "call",
    "Call",
    """
hs_call_title string text call - - Call Title
hs_call_body string html call - - Call notes
hs_call_direction enumeration select call - call_direction Call direction
hs_call_disposition string text call - - Call outcome
hs_call_duration number number call - - Call duration
hs_call_status enumeration select call - call_status Call status
hs_call_from_number string text call - - From number
hs_call_to_number string text call - - To Number
hs_call_recording_url string text call - - Recording URL
""",
)
EMAILS: Final = _engagement(
    "email",
    "Email",
    """
hs_email_subject string text email - - Email subject
hs_email_text string textarea email - - Email text
hs_email_html string html email - - Email HTML
hs_email_direction enumeration select email - email_direction Email direction
hs_email_status enumeration select email - email_status Email send status
hs_email_headers string textarea email - - Email headers
hs_email_sender_email string text email - - Sender email
hs_email_to_email string text email - - Recipient email
""",
)
MEETINGS: Final = _engagement(
    "meeting",
    "Meeting",
    """
hs_meeting_title string text meeting - - Meeting name
hs_meeting_body string html meeting - - Meeting description
hs_internal_meeting_notes string html meeting - - Internal meeting notes
hs_meeting_external_url string text meeting - - External URL
hs_meeting_location string text meeting - - Location
hs_meeting_start_time datetime date meeting - - Start Time
hs_meeting_end_time datetime date meeting - - End Time
hs_meeting_outcome enumeration select meeting - meeting_outcome Meeting outcome
""",
)
NOTES: Final = _engagement(
    "note",
    "Note",
    """
hs_note_body string html note - - Note body
hs_attachment_ids enumeration checkbox note - - Attachment IDs
""",
)
TASKS: Final = _engagement(
    "task",
    "Task",
    """
hs_task_subject string text task - - Task Title
hs_task_body string html task - - Notes
hs_task_status enumeration select task - task_status Task Status
hs_task_priority enumeration select task - task_priority Priority
hs_task_type enumeration select task - task_type Task Type
hs_task_completion_date datetime date task r - Completed at
""",
)
COMMUNICATIONS: Final = _engagement(
    "communication",
    "Communication",
    """
hs_communication_body string html communication - - Communication body
hs_communication_channel_type enumeration select communication - channel_type Channel type
hs_communication_logged_from enumeration select communication - logged_from Logged from
""",
)
POSTAL_MAIL: Final = _engagement(
    "postal_mail",
    "Postal mail",
    """
hs_postal_mail_body string html postal_mail - - Postal mail body
""",
)
LEADS: Final = _small(
    "@lead_information Lead information",
    "hs_createdate",
    """
hs_lead_name string text lead_information - - Lead name
hs_pipeline enumeration select lead_information - lead_pipeline Lead pipeline
hs_pipeline_stage enumeration select lead_information - lead_stage Lead stage
hs_lead_type enumeration select lead_information - lead_type Lead type
hs_lead_label enumeration select lead_information - lead_label Lead label
hs_primary_contact_id number number lead_information r - Primary contact ID
hs_primary_company_id number number lead_information r - Primary company ID
""",
    "lead_information",
)
GOAL_TARGETS: Final = _small(
    "@goal_target_information Goal information",
    "hs_createdate",
    """
hs_goal_name string text goal_target_information - - Goal name
hs_target_amount number number goal_target_information - - Target
hs_start_datetime datetime date goal_target_information - - Start date
hs_end_datetime datetime date goal_target_information - - End date
hs_kpi_value number number goal_target_information rc - Progress
""",
    "goal_target_information",
)

QUOTES: Final = _small(
    "@quoteinformation Quote information",
    "hs_createdate",
    """
hs_title string text quoteinformation - - Quote name
hs_quote_amount number number quoteinformation rc - Quote amount
hs_quote_number string text quoteinformation r - Quote number
hs_status enumeration select quoteinformation - quote_status Quote approval status
hs_expiration_date datetime date quoteinformation - - Quote expiration date
hs_terms string textarea quoteinformation - - Terms
hs_currency string text quoteinformation - - Currency
""",
    "quoteinformation",
)
FEEDBACK_SUBMISSIONS: Final = _small(
    "@feedbacksubmissioninformation Feedback submission information",
    "hs_createdate",
    """
hs_content string textarea feedbacksubmissioninformation r - Response
hs_survey_name string text feedbacksubmissioninformation r - Survey name
hs_survey_type enumeration select feedbacksubmissioninformation r survey_type Survey type
hs_response_value number number feedbacksubmissioninformation r - Rating
hs_submission_timestamp datetime date feedbacksubmissioninformation r - Submitted at
""",
    "feedbacksubmissioninformation",
)

TABLES: Final[dict[str, str]] = {
    "companies": COMPANIES,
    "contacts": CONTACTS,
    "deals": DEALS,
    "tickets": TICKETS,
    "products": PRODUCTS,
    "line_items": LINE_ITEMS,
    "calls": CALLS,
    "emails": EMAILS,
    "meetings": MEETINGS,
    "notes": NOTES,
    "tasks": TASKS,
    "communications": COMMUNICATIONS,
    "postal_mail": POSTAL_MAIL,
    "leads": LEADS,
    "goal_targets": GOAL_TARGETS,
    "quotes": QUOTES,
    "feedback_submissions": FEEDBACK_SUBMISSIONS,
}
