// Generated from sync/schema.py and sync/vocabulary.json: do not edit.
// Regenerate with: .venv/bin/python -m sync.schema_export (docs/pwa.md).
export const SCHEMA = {
 "version": 1,
 "types": {
  "school": {
   "fields": {
    "name": {
     "kind": "string",
     "nullable": false,
     "required": true,
     "max": 200
    },
    "urn": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 7,
     "pattern": "\\d{5,7}",
     "hint": "a 6-digit URN"
    },
    "address": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 500
    },
    "postcode": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 10
    },
    "lat": {
     "kind": "number",
     "nullable": true,
     "required": false,
     "max": 90,
     "min": -90
    },
    "lon": {
     "kind": "number",
     "nullable": true,
     "required": false,
     "max": 180,
     "min": -180
    },
    "day_starts": {
     "kind": "clock_time",
     "nullable": true,
     "required": false
    }
   },
   "defaults": {},
   "submittable": false,
   "deletable": false,
   "deletable_status": null,
   "officer_writable": []
  },
  "household": {
   "fields": {
    "address": {
     "kind": "string",
     "nullable": false,
     "required": true,
     "max": 500
    },
    "postcode": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 10
    },
    "lat": {
     "kind": "number",
     "nullable": true,
     "required": false,
     "max": 90,
     "min": -90
    },
    "lon": {
     "kind": "number",
     "nullable": true,
     "required": false,
     "max": 180,
     "min": -180
    },
    "contacts": {
     "kind": "list",
     "nullable": true,
     "required": false,
     "max_items": 20,
     "unique": false,
     "items": {
      "kind": "object",
      "nullable": false,
      "required": false,
      "fields": {
       "name": {
        "kind": "string",
        "nullable": false,
        "required": true,
        "max": 200
       },
       "relationship": {
        "kind": "string",
        "nullable": true,
        "required": false,
        "max": 100
       },
       "phone": {
        "kind": "string",
        "nullable": true,
        "required": false,
        "max": 40
       }
      }
     }
    },
    "language": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 100
    },
    "access_notes": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 2000
    }
   },
   "defaults": {
    "contacts": []
   },
   "submittable": false,
   "deletable": false,
   "deletable_status": null,
   "officer_writable": [
    "access_notes",
    "contacts"
   ]
  },
  "pupil": {
   "fields": {
    "upn": {
     "kind": "string",
     "nullable": false,
     "required": true,
     "max": 13,
     "pattern": "[A-Z0-9]{13}",
     "hint": "a 13-character UPN"
    },
    "first_name": {
     "kind": "string",
     "nullable": false,
     "required": true,
     "max": 200
    },
    "last_name": {
     "kind": "string",
     "nullable": false,
     "required": true,
     "max": 200
    },
    "date_of_birth": {
     "kind": "date",
     "nullable": true,
     "required": false
    },
    "year_group": {
     "kind": "integer",
     "nullable": true,
     "required": false,
     "max": 14,
     "min": -1
    },
    "school_id": {
     "kind": "ref",
     "nullable": false,
     "required": true
    },
    "household_id": {
     "kind": "ref",
     "nullable": true,
     "required": false
    },
    "send": {
     "kind": "enum",
     "nullable": true,
     "required": false,
     "enum": "send"
    },
    "transport_eligible": {
     "kind": "boolean",
     "nullable": true,
     "required": false
    },
    "on_roll_from": {
     "kind": "date",
     "nullable": true,
     "required": false
    },
    "left_on": {
     "kind": "date",
     "nullable": true,
     "required": false
    },
    "destination": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 200
    },
    "free_school_meals": {
     "kind": "boolean",
     "nullable": true,
     "required": false
    },
    "child_in_need": {
     "kind": "boolean",
     "nullable": true,
     "required": false
    },
    "child_protection": {
     "kind": "boolean",
     "nullable": true,
     "required": false
    },
    "possible_sessions": {
     "kind": "integer",
     "nullable": true,
     "required": false,
     "max": 10000,
     "min": 0,
     "read_only": true
    },
    "attended_sessions": {
     "kind": "integer",
     "nullable": true,
     "required": false,
     "max": 10000,
     "min": 0,
     "read_only": true
    },
    "authorised_absences": {
     "kind": "integer",
     "nullable": true,
     "required": false,
     "max": 10000,
     "min": 0,
     "read_only": true
    },
    "unauthorised_absences": {
     "kind": "integer",
     "nullable": true,
     "required": false,
     "max": 10000,
     "min": 0,
     "read_only": true
    },
    "attendance_pct": {
     "kind": "number",
     "nullable": true,
     "required": false,
     "max": 100,
     "min": 0,
     "read_only": true
    },
    "band": {
     "kind": "enum",
     "nullable": true,
     "required": false,
     "enum": "band",
     "read_only": true
    },
    "unauthorised_last_10_weeks": {
     "kind": "integer",
     "nullable": true,
     "required": false,
     "max": 10000,
     "min": 0,
     "read_only": true
    },
    "penalty_threshold_met": {
     "kind": "boolean",
     "nullable": true,
     "required": false,
     "read_only": true
    }
   },
   "defaults": {},
   "submittable": false,
   "deletable": false,
   "deletable_status": null,
   "officer_writable": []
  },
  "case": {
   "fields": {
    "pupil_id": {
     "kind": "ref",
     "nullable": false,
     "required": true,
     "immutable": true
    },
    "assigned_officer_id": {
     "kind": "ref",
     "nullable": true,
     "required": false
    },
    "status": {
     "kind": "enum",
     "nullable": false,
     "required": false,
     "enum": "case_status"
    },
    "stage": {
     "kind": "enum",
     "nullable": false,
     "required": false,
     "enum": "stage"
    },
    "agencies": {
     "kind": "list",
     "nullable": true,
     "required": false,
     "max_items": 10,
     "unique": true,
     "items": {
      "kind": "enum",
      "nullable": false,
      "required": false,
      "enum": "agency"
     }
    },
    "family_consent": {
     "kind": "enum",
     "nullable": true,
     "required": false,
     "enum": "consent"
    },
    "opened_on": {
     "kind": "date",
     "nullable": true,
     "required": false
    },
    "summary": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 10000
    }
   },
   "defaults": {
    "status": "open",
    "stage": "support",
    "agencies": [],
    "family_consent": "not_asked"
   },
   "submittable": false,
   "deletable": false,
   "deletable_status": null,
   "officer_writable": []
  },
  "visit": {
   "fields": {
    "case_id": {
     "kind": "ref",
     "nullable": false,
     "required": true,
     "immutable": true
    },
    "household_id": {
     "kind": "ref",
     "nullable": true,
     "required": false
    },
    "officer_id": {
     "kind": "ref",
     "nullable": true,
     "required": false,
     "immutable": true,
     "server_filled": true
    },
    "planned_for": {
     "kind": "date_or_time",
     "nullable": true,
     "required": false
    },
    "started_at": {
     "kind": "timestamp",
     "nullable": true,
     "required": false
    },
    "ended_at": {
     "kind": "timestamp",
     "nullable": true,
     "required": false
    },
    "lat": {
     "kind": "number",
     "nullable": true,
     "required": false,
     "max": 90,
     "min": -90
    },
    "lon": {
     "kind": "number",
     "nullable": true,
     "required": false,
     "max": 180,
     "min": -180
    },
    "accuracy_m": {
     "kind": "number",
     "nullable": true,
     "required": false,
     "max": 100000,
     "min": 0
    },
    "outcome": {
     "kind": "enum",
     "nullable": true,
     "required": false,
     "enum": "outcome"
    },
    "child_seen": {
     "kind": "boolean",
     "nullable": true,
     "required": false
    },
    "safeguarding_concern": {
     "kind": "boolean",
     "nullable": true,
     "required": false
    },
    "concern_details": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 10000
    },
    "barriers": {
     "kind": "list",
     "nullable": true,
     "required": false,
     "max_items": 15,
     "unique": true,
     "items": {
      "kind": "enum",
      "nullable": false,
      "required": false,
      "enum": "barrier"
     }
    },
    "notes": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 10000
    },
    "status": {
     "kind": "enum",
     "nullable": false,
     "required": false,
     "enum": "record_status"
    },
    "follow_up_of": {
     "kind": "ref",
     "nullable": true,
     "required": false
    }
   },
   "defaults": {
    "status": "draft",
    "barriers": [],
    "safeguarding_concern": false
   },
   "submittable": true,
   "deletable": true,
   "deletable_status": "draft",
   "officer_writable": null
  },
  "conversation": {
   "fields": {
    "visit_id": {
     "kind": "ref",
     "nullable": true,
     "required": false
    },
    "case_id": {
     "kind": "ref",
     "nullable": false,
     "required": true,
     "immutable": true
    },
    "spoke_with": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 200
    },
    "reason_given": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 10000
    },
    "barriers": {
     "kind": "list",
     "nullable": true,
     "required": false,
     "max_items": 15,
     "unique": true,
     "items": {
      "kind": "enum",
      "nullable": false,
      "required": false,
      "enum": "barrier"
     }
    },
    "parent_view": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 10000
    },
    "agreed_actions": {
     "kind": "list",
     "nullable": true,
     "required": false,
     "max_items": 50,
     "unique": false,
     "items": {
      "kind": "object",
      "nullable": false,
      "required": false,
      "fields": {
       "action": {
        "kind": "string",
        "nullable": false,
        "required": true,
        "max": 500
       },
       "owner": {
        "kind": "string",
        "nullable": true,
        "required": false,
        "max": 200
       },
       "due_on": {
        "kind": "date",
        "nullable": true,
        "required": false
       }
      }
     }
    },
    "next_contact_on": {
     "kind": "date",
     "nullable": true,
     "required": false
    },
    "status": {
     "kind": "enum",
     "nullable": false,
     "required": false,
     "enum": "record_status"
    },
    "follow_up_of": {
     "kind": "ref",
     "nullable": true,
     "required": false
    }
   },
   "defaults": {
    "status": "draft",
    "barriers": [],
    "agreed_actions": []
   },
   "submittable": true,
   "deletable": true,
   "deletable_status": "draft",
   "officer_writable": null
  },
  "transport_run": {
   "fields": {
    "date": {
     "kind": "date",
     "nullable": false,
     "required": true
    },
    "school_id": {
     "kind": "ref",
     "nullable": false,
     "required": true
    },
    "driver_id": {
     "kind": "ref",
     "nullable": true,
     "required": false
    },
    "vehicle": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 100
    },
    "seats": {
     "kind": "integer",
     "nullable": true,
     "required": false,
     "max": 80,
     "min": 1
    },
    "status": {
     "kind": "enum",
     "nullable": false,
     "required": false,
     "enum": "run_status"
    },
    "departed_at": {
     "kind": "timestamp",
     "nullable": true,
     "required": false
    },
    "arrived_at": {
     "kind": "timestamp",
     "nullable": true,
     "required": false
    }
   },
   "defaults": {
    "status": "planned"
   },
   "submittable": false,
   "deletable": false,
   "deletable_status": null,
   "officer_writable": [
    "arrived_at",
    "departed_at",
    "status"
   ]
  },
  "transport_stop": {
   "fields": {
    "run_id": {
     "kind": "ref",
     "nullable": false,
     "required": true,
     "immutable": true
    },
    "position": {
     "kind": "integer",
     "nullable": true,
     "required": false,
     "max": 1000,
     "min": 0
    },
    "pupil_id": {
     "kind": "ref",
     "nullable": false,
     "required": true
    },
    "household_id": {
     "kind": "ref",
     "nullable": true,
     "required": false
    },
    "lat": {
     "kind": "number",
     "nullable": true,
     "required": false,
     "max": 90,
     "min": -90
    },
    "lon": {
     "kind": "number",
     "nullable": true,
     "required": false,
     "max": 180,
     "min": -180
    },
    "eta": {
     "kind": "timestamp",
     "nullable": true,
     "required": false
    },
    "status": {
     "kind": "enum",
     "nullable": false,
     "required": false,
     "enum": "stop_status"
    },
    "event_at": {
     "kind": "timestamp",
     "nullable": true,
     "required": false
    },
    "event_lat": {
     "kind": "number",
     "nullable": true,
     "required": false,
     "max": 90,
     "min": -90
    },
    "event_lon": {
     "kind": "number",
     "nullable": true,
     "required": false,
     "max": 180,
     "min": -180
    }
   },
   "defaults": {
    "status": "pending"
   },
   "submittable": false,
   "deletable": false,
   "deletable_status": null,
   "officer_writable": [
    "event_at",
    "event_lat",
    "event_lon",
    "status"
   ]
  },
  "task": {
   "fields": {
    "case_id": {
     "kind": "ref",
     "nullable": false,
     "required": true,
     "immutable": true
    },
    "assigned_to": {
     "kind": "ref",
     "nullable": true,
     "required": false
    },
    "title": {
     "kind": "string",
     "nullable": false,
     "required": true,
     "max": 300
    },
    "due_on": {
     "kind": "date",
     "nullable": true,
     "required": false
    },
    "done": {
     "kind": "boolean",
     "nullable": true,
     "required": false
    }
   },
   "defaults": {
    "done": false
   },
   "submittable": false,
   "deletable": true,
   "deletable_status": null,
   "officer_writable": null
  },
  "note": {
   "fields": {
    "subject_type": {
     "kind": "enum",
     "nullable": false,
     "required": true,
     "enum": "subject_type",
     "immutable": true
    },
    "subject_id": {
     "kind": "ref",
     "nullable": false,
     "required": true,
     "immutable": true
    },
    "text": {
     "kind": "string",
     "nullable": false,
     "required": true,
     "max": 10000
    },
    "author_id": {
     "kind": "ref",
     "nullable": true,
     "required": false,
     "immutable": true,
     "server_filled": true
    },
    "case_id": {
     "kind": "ref",
     "nullable": true,
     "required": false,
     "immutable": true
    }
   },
   "defaults": {},
   "submittable": false,
   "deletable": false,
   "deletable_status": null,
   "officer_writable": null
  },
  "notice": {
   "fields": {
    "recipient_id": {
     "kind": "ref",
     "nullable": false,
     "required": true
    },
    "kind": {
     "kind": "enum",
     "nullable": false,
     "required": true,
     "enum": "notice_kind"
    },
    "record_type": {
     "kind": "enum",
     "nullable": false,
     "required": true,
     "enum": "record_type"
    },
    "record_id": {
     "kind": "ref",
     "nullable": false,
     "required": true
    },
    "case_id": {
     "kind": "ref",
     "nullable": true,
     "required": false
    },
    "about": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 500
    },
    "field": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 100
    },
    "your_text": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 20000
    },
    "your_at": {
     "kind": "timestamp",
     "nullable": true,
     "required": false
    },
    "your_device": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 200
    },
    "their_text": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 20000
    },
    "replaced_at": {
     "kind": "timestamp",
     "nullable": true,
     "required": false
    },
    "replaced_by": {
     "kind": "ref",
     "nullable": true,
     "required": false
    },
    "replaced_by_name": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 200
    },
    "replaced_on": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 200
    },
    "change_id": {
     "kind": "ref",
     "nullable": true,
     "required": false
    },
    "dismissed": {
     "kind": "boolean",
     "nullable": true,
     "required": false
    }
   },
   "defaults": {},
   "submittable": false,
   "deletable": false,
   "deletable_status": null,
   "officer_writable": [
    "dismissed"
   ]
  },
  "review": {
   "fields": {
    "subject_type": {
     "kind": "enum",
     "nullable": false,
     "required": true,
     "enum": "subject_type"
    },
    "subject_id": {
     "kind": "ref",
     "nullable": false,
     "required": true
    },
    "case_id": {
     "kind": "ref",
     "nullable": true,
     "required": false
    },
    "officer_id": {
     "kind": "ref",
     "nullable": true,
     "required": false
    },
    "state": {
     "kind": "enum",
     "nullable": false,
     "required": true,
     "enum": "review_state"
    },
    "comment": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 2000
    },
    "reviewed_by": {
     "kind": "ref",
     "nullable": true,
     "required": false
    },
    "reviewed_by_name": {
     "kind": "string",
     "nullable": true,
     "required": false,
     "max": 200
    },
    "reviewed_at": {
     "kind": "timestamp",
     "nullable": true,
     "required": false
    },
    "answered_type": {
     "kind": "enum",
     "nullable": true,
     "required": false,
     "enum": "record_type"
    },
    "answered_id": {
     "kind": "ref",
     "nullable": true,
     "required": false
    },
    "answered_at": {
     "kind": "timestamp",
     "nullable": true,
     "required": false
    }
   },
   "defaults": {},
   "submittable": false,
   "deletable": false,
   "deletable_status": null,
   "officer_writable": []
  }
 },
 "enums": {
  "outcome": [
   "seen_child_and_parent",
   "spoke_to_parent",
   "child_seen",
   "no_answer",
   "card_left",
   "refused",
   "moved_away",
   "unsafe_to_proceed"
  ],
  "barrier": [
   "physical_health",
   "mental_health_anxiety",
   "send_unmet_need",
   "bullying",
   "young_carer",
   "parental_illness",
   "parenting_capacity",
   "housing",
   "financial",
   "transport",
   "domestic_abuse",
   "substance_misuse",
   "exploitation",
   "term_time_holiday",
   "other"
  ],
  "stage": [
   "support",
   "attendance_meeting",
   "attendance_contract",
   "notice_to_improve",
   "penalty_notice",
   "education_supervision_order",
   "prosecution"
  ],
  "agency": [
   "social_care",
   "early_help",
   "camhs",
   "school_nurse",
   "gp",
   "housing",
   "police",
   "young_carers",
   "send_team",
   "other"
  ],
  "band": [
   "ok",
   "at_risk",
   "persistent",
   "severe"
  ],
  "send": [
   "none",
   "sen_support",
   "ehcp"
  ],
  "consent": [
   "not_asked",
   "given",
   "refused"
  ],
  "case_status": [
   "open",
   "closed"
  ],
  "record_status": [
   "draft",
   "submitted"
  ],
  "run_status": [
   "planned",
   "in_progress",
   "done"
  ],
  "stop_status": [
   "pending",
   "picked_up",
   "no_show",
   "refused"
  ],
  "subject_type": [
   "school",
   "household",
   "pupil",
   "case",
   "visit",
   "conversation",
   "transport_run",
   "transport_stop",
   "task"
  ],
  "review_state": [
   "new",
   "reviewed",
   "needs_follow_up"
  ],
  "record_type": [
   "school",
   "household",
   "pupil",
   "case",
   "visit",
   "conversation",
   "transport_run",
   "transport_stop",
   "task",
   "note"
  ],
  "notice_kind": [
   "lost_at_push",
   "replaced"
  ]
 },
 "rules": [
  {
   "type": "visit",
   "when": {
    "status": "submitted"
   },
   "field": "outcome",
   "need": "value",
   "message": "a visit needs an outcome before it is submitted",
   "ask": "Choose the outcome of the visit."
  },
  {
   "type": "conversation",
   "when": {
    "status": "submitted"
   },
   "field": "spoke_with",
   "need": "value",
   "message": "a conversation needs who was spoken to before it is submitted",
   "ask": "Say who you spoke to."
  },
  {
   "type": "visit",
   "when": {
    "status": "submitted",
    "safeguarding_concern": true
   },
   "field": "concern_details",
   "need": "text",
   "message": "a safeguarding concern needs its details",
   "ask": "Describe the safeguarding concern."
  }
 ],
 "vocabulary": {
  "enums": {
   "outcome": {
    "seen_child_and_parent": {
     "label": "Saw the child and a parent"
    },
    "spoke_to_parent": {
     "label": "Spoke to a parent",
     "help": "A parent or carer, without seeing the child."
    },
    "child_seen": {
     "label": "Saw the child only",
     "help": "The child, without a parent or carer."
    },
    "no_answer": {
     "label": "No answer"
    },
    "card_left": {
     "label": "Card left",
     "help": "Nobody answered; a calling card was left."
    },
    "refused": {
     "label": "Refused to engage"
    },
    "moved_away": {
     "label": "Moved away"
    },
    "unsafe_to_proceed": {
     "label": "Unsafe to proceed",
     "help": "Leave, then tell your manager."
    }
   },
   "barrier": {
    "physical_health": {
     "label": "Physical health"
    },
    "mental_health_anxiety": {
     "label": "Mental health or anxiety"
    },
    "send_unmet_need": {
     "label": "SEND need not met",
     "help": "Special educational needs or a disability the school is not yet meeting."
    },
    "bullying": {
     "label": "Bullying"
    },
    "young_carer": {
     "label": "Young carer"
    },
    "parental_illness": {
     "label": "Parental illness"
    },
    "parenting_capacity": {
     "label": "Parenting capacity"
    },
    "housing": {
     "label": "Housing"
    },
    "financial": {
     "label": "Money worries",
     "help": "For example uniform, travel or debts."
    },
    "transport": {
     "label": "Transport"
    },
    "domestic_abuse": {
     "label": "Domestic abuse"
    },
    "substance_misuse": {
     "label": "Substance misuse"
    },
    "exploitation": {
     "label": "Exploitation"
    },
    "term_time_holiday": {
     "label": "Term-time holiday"
    },
    "other": {
     "label": "Other"
    }
   },
   "stage": {
    "support": {
     "label": "Support"
    },
    "attendance_meeting": {
     "label": "Attendance meeting"
    },
    "attendance_contract": {
     "label": "Attendance contract"
    },
    "notice_to_improve": {
     "label": "Notice to improve"
    },
    "penalty_notice": {
     "label": "Penalty notice"
    },
    "education_supervision_order": {
     "label": "Education supervision order"
    },
    "prosecution": {
     "label": "Prosecution"
    }
   },
   "agency": {
    "social_care": {
     "label": "Social care"
    },
    "early_help": {
     "label": "Early help"
    },
    "camhs": {
     "label": "CAMHS",
     "help": "Child and adolescent mental health services."
    },
    "school_nurse": {
     "label": "School nurse"
    },
    "gp": {
     "label": "GP"
    },
    "housing": {
     "label": "Housing"
    },
    "police": {
     "label": "Police"
    },
    "young_carers": {
     "label": "Young carers service"
    },
    "send_team": {
     "label": "SEND team"
    },
    "other": {
     "label": "Other"
    }
   },
   "band": {
    "ok": {
     "label": "Attendance OK"
    },
    "at_risk": {
     "label": "At risk"
    },
    "persistent": {
     "label": "Persistent absence",
     "help": "Missing 10% or more of sessions."
    },
    "severe": {
     "label": "Severe absence",
     "help": "Missing 50% or more of sessions."
    }
   },
   "send": {
    "none": {
     "label": "None"
    },
    "sen_support": {
     "label": "SEN support"
    },
    "ehcp": {
     "label": "EHC plan",
     "help": "An education, health and care plan."
    }
   },
   "consent": {
    "not_asked": {
     "label": "Not asked"
    },
    "given": {
     "label": "Given"
    },
    "refused": {
     "label": "Refused"
    }
   },
   "case_status": {
    "open": {
     "label": "Open"
    },
    "closed": {
     "label": "Closed"
    }
   },
   "record_status": {
    "draft": {
     "label": "Draft"
    },
    "submitted": {
     "label": "Submitted"
    }
   },
   "run_status": {
    "planned": {
     "label": "Planned"
    },
    "in_progress": {
     "label": "On the road"
    },
    "done": {
     "label": "Done"
    }
   },
   "stop_status": {
    "pending": {
     "label": "Waiting"
    },
    "picked_up": {
     "label": "Picked up"
    },
    "no_show": {
     "label": "No show"
    },
    "refused": {
     "label": "Refused"
    }
   },
   "review_state": {
    "new": {
     "label": "New"
    },
    "reviewed": {
     "label": "Reviewed"
    },
    "needs_follow_up": {
     "label": "Needs follow-up"
    }
   },
   "conflict_side": {
    "kept": {
     "label": "kept value"
    },
    "lost": {
     "label": "set-aside value"
    }
   },
   "subject_type": {
    "school": {
     "label": "School"
    },
    "household": {
     "label": "Household"
    },
    "pupil": {
     "label": "Pupil"
    },
    "case": {
     "label": "Case"
    },
    "visit": {
     "label": "Home visit"
    },
    "conversation": {
     "label": "Conversation"
    },
    "transport_run": {
     "label": "Transport run"
    },
    "transport_stop": {
     "label": "Transport stop"
    },
    "task": {
     "label": "Task"
    }
   },
   "record_type": {
    "school": {
     "label": "School"
    },
    "household": {
     "label": "Household"
    },
    "pupil": {
     "label": "Pupil"
    },
    "case": {
     "label": "Case"
    },
    "visit": {
     "label": "Home visit"
    },
    "conversation": {
     "label": "Conversation"
    },
    "transport_run": {
     "label": "Transport run"
    },
    "transport_stop": {
     "label": "Transport stop"
    },
    "task": {
     "label": "Task"
    },
    "note": {
     "label": "Note"
    }
   },
   "notice_kind": {
    "lost_at_push": {
     "label": "Someone else changed it first",
     "help": "Your change reached the server after a newer change to the same thing; yours was set aside."
    },
    "replaced": {
     "label": "Your value was replaced",
     "help": "A change made without seeing yours replaced what you had already synced."
    }
   }
  },
  "fields": {
   "name": {
    "label": "Name"
   },
   "urn": {
    "label": "URN",
    "help": "The school's unique reference number."
   },
   "address": {
    "label": "Address"
   },
   "postcode": {
    "label": "Postcode"
   },
   "lat": {
    "label": "Latitude"
   },
   "lon": {
    "label": "Longitude"
   },
   "day_starts": {
    "label": "School day starts"
   },
   "contacts": {
    "label": "Contacts"
   },
   "relationship": {
    "label": "Relationship"
   },
   "phone": {
    "label": "Phone"
   },
   "language": {
    "label": "Language"
   },
   "access_notes": {
    "label": "Access notes"
   },
   "upn": {
    "label": "UPN",
    "help": "The pupil's unique pupil number."
   },
   "first_name": {
    "label": "First name"
   },
   "last_name": {
    "label": "Last name"
   },
   "date_of_birth": {
    "label": "Date of birth"
   },
   "year_group": {
    "label": "Year group"
   },
   "school_id": {
    "label": "School"
   },
   "household_id": {
    "label": "Household"
   },
   "send": {
    "label": "SEND",
    "help": "Special educational needs and disabilities."
   },
   "transport_eligible": {
    "label": "Transport eligible"
   },
   "on_roll_from": {
    "label": "On roll from"
   },
   "left_on": {
    "label": "Left on"
   },
   "destination": {
    "label": "Destination"
   },
   "free_school_meals": {
    "label": "Free school meals"
   },
   "child_in_need": {
    "label": "Child in need"
   },
   "child_protection": {
    "label": "Child protection plan"
   },
   "possible_sessions": {
    "label": "Possible sessions"
   },
   "attended_sessions": {
    "label": "Attended sessions"
   },
   "authorised_absences": {
    "label": "Authorised absences"
   },
   "unauthorised_absences": {
    "label": "Unauthorised absences"
   },
   "attendance_pct": {
    "label": "Attendance"
   },
   "band": {
    "label": "Band"
   },
   "unauthorised_last_10_weeks": {
    "label": "Unauthorised, last 10 weeks"
   },
   "penalty_threshold_met": {
    "label": "Penalty notice threshold met"
   },
   "pupil_id": {
    "label": "Pupil"
   },
   "assigned_officer_id": {
    "label": "Officer"
   },
   "status": {
    "label": "Status"
   },
   "stage": {
    "label": "Stage"
   },
   "agencies": {
    "label": "Agencies"
   },
   "family_consent": {
    "label": "Family consent"
   },
   "opened_on": {
    "label": "Opened on"
   },
   "summary": {
    "label": "Summary"
   },
   "case_id": {
    "label": "Case"
   },
   "officer_id": {
    "label": "Officer"
   },
   "planned_for": {
    "label": "Planned for"
   },
   "started_at": {
    "label": "Started at"
   },
   "ended_at": {
    "label": "Ended at"
   },
   "accuracy_m": {
    "label": "GPS accuracy (m)"
   },
   "outcome": {
    "label": "Outcome"
   },
   "child_seen": {
    "label": "Child seen"
   },
   "safeguarding_concern": {
    "label": "Safeguarding concern"
   },
   "concern_details": {
    "label": "Concern details",
    "help": "What you saw or heard. Follow your safeguarding procedure now: call the designated lead or MASH."
   },
   "barriers": {
    "label": "Barriers"
   },
   "notes": {
    "label": "Notes"
   },
   "visit_id": {
    "label": "Held during a visit",
    "help": "The conversation is then shown at the time of that visit."
   },
   "spoke_with": {
    "label": "Who was spoken to",
    "help": "Name and relationship, e.g. Mum (Jo Smith)"
   },
   "reason_given": {
    "label": "Reason given"
   },
   "parent_view": {
    "label": "Parent's view"
   },
   "agreed_actions": {
    "label": "Agreed actions"
   },
   "action": {
    "label": "Action"
   },
   "owner": {
    "label": "Owner"
   },
   "due_on": {
    "label": "Due on"
   },
   "next_contact_on": {
    "label": "Next contact"
   },
   "date": {
    "label": "Date"
   },
   "driver_id": {
    "label": "Driver"
   },
   "vehicle": {
    "label": "Vehicle"
   },
   "seats": {
    "label": "Seats"
   },
   "departed_at": {
    "label": "Departed at"
   },
   "arrived_at": {
    "label": "Arrived at"
   },
   "run_id": {
    "label": "Run"
   },
   "position": {
    "label": "Stop number"
   },
   "eta": {
    "label": "Expected at"
   },
   "event_at": {
    "label": "Recorded at"
   },
   "event_lat": {
    "label": "Latitude recorded"
   },
   "event_lon": {
    "label": "Longitude recorded"
   },
   "assigned_to": {
    "label": "Assigned to"
   },
   "title": {
    "label": "Title"
   },
   "done": {
    "label": "Done"
   },
   "subject_type": {
    "label": "About a"
   },
   "subject_id": {
    "label": "About"
   },
   "text": {
    "label": "Text"
   },
   "author_id": {
    "label": "Author"
   },
   "_deleted": {
    "label": "Deleted"
   },
   "follow_up_of": {
    "label": "Follows up",
    "help": "The visit or conversation the office asked to follow up."
   },
   "recipient_id": {
    "label": "For"
   },
   "kind": {
    "label": "What happened"
   },
   "record_type": {
    "label": "Record"
   },
   "record_id": {
    "label": "Record id"
   },
   "about": {
    "label": "About"
   },
   "field": {
    "label": "Field"
   },
   "your_text": {
    "label": "Your text"
   },
   "your_at": {
    "label": "You wrote it"
   },
   "your_device": {
    "label": "On your device"
   },
   "their_text": {
    "label": "Replaced by"
   },
   "replaced_at": {
    "label": "Replaced at"
   },
   "replaced_by": {
    "label": "Replaced by (user)"
   },
   "replaced_by_name": {
    "label": "Replaced by (name)"
   },
   "replaced_on": {
    "label": "Replaced on device"
   },
   "change_id": {
    "label": "Your change"
   },
   "dismissed": {
    "label": "Dismissed"
   },
   "state": {
    "label": "Review"
   },
   "comment": {
    "label": "Comment"
   },
   "reviewed_by": {
    "label": "Reviewed by (user)"
   },
   "reviewed_by_name": {
    "label": "Reviewed by"
   },
   "reviewed_at": {
    "label": "Reviewed at"
   },
   "answered_type": {
    "label": "Answered with a"
   },
   "answered_id": {
    "label": "Answered with"
   },
   "answered_at": {
    "label": "Answered"
   }
  },
  "types": {
   "school": {
    "label": "School"
   },
   "household": {
    "label": "Household"
   },
   "pupil": {
    "label": "Pupil"
   },
   "case": {
    "label": "Case"
   },
   "visit": {
    "label": "Home visit"
   },
   "conversation": {
    "label": "Conversation"
   },
   "transport_run": {
    "label": "Transport run"
   },
   "transport_stop": {
    "label": "Transport stop"
   },
   "task": {
    "label": "Task"
   },
   "note": {
    "label": "Note"
   },
   "notice": {
    "label": "Notice"
   },
   "review": {
    "label": "Office review"
   }
  }
 }
};
