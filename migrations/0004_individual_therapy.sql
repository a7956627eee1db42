CREATE TABLE "diary_card_versions" (
	"clinic_id" uuid NOT NULL,
	"card_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"days" jsonb NOT NULL,
	"change" text NOT NULL,
	"changed_day" date,
	"changed_by" uuid NOT NULL,
	"changed_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "diary_card_versions_clinic_id_card_id_version_pk" PRIMARY KEY("clinic_id","card_id","version")
);
--> statement-breakpoint
CREATE TABLE "diary_cards" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"client_id" uuid NOT NULL,
	"week_start" date NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "diary_cards_clinic_id_id_pk" PRIMARY KEY("clinic_id","id"),
	CONSTRAINT "diary_cards_client_week_key" UNIQUE("clinic_id","client_id","week_start")
);
--> statement-breakpoint
CREATE TABLE "diary_days" (
	"clinic_id" uuid NOT NULL,
	"card_id" uuid NOT NULL,
	"day" date NOT NULL,
	"entry" jsonb NOT NULL,
	"first_entered_at" timestamp (3) with time zone NOT NULL,
	"last_entered_at" timestamp (3) with time zone NOT NULL,
	"back_filled" boolean NOT NULL,
	CONSTRAINT "diary_days_clinic_id_card_id_day_pk" PRIMARY KEY("clinic_id","card_id","day")
);
--> statement-breakpoint
CREATE TABLE "clinical_events" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"client_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"occurred_at" timestamp (3) with time zone NOT NULL,
	"discharged_at" timestamp (3) with time zone,
	"severity" text NOT NULL,
	"source" text NOT NULL,
	"description" text,
	"diary_card_id" uuid,
	"diary_date" date,
	"target_id" uuid,
	"entered_in_error_at" timestamp (3) with time zone,
	"entered_in_error_reason" text,
	"version" integer DEFAULT 1 NOT NULL,
	"recorded_by" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "clinical_events_clinic_id_id_pk" PRIMARY KEY("clinic_id","id")
);
--> statement-breakpoint
CREATE TABLE "individual_sessions" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"client_id" uuid NOT NULL,
	"therapist_id" uuid NOT NULL,
	"scheduled_start" timestamp (3) with time zone NOT NULL,
	"duration_minutes" integer NOT NULL,
	"type" text NOT NULL,
	"attendance" text NOT NULL,
	"late_minutes" integer,
	"notice_hours" integer,
	"diary_card_id" uuid,
	"diary_card_missing" boolean DEFAULT false NOT NULL,
	"risk_assessment_done" boolean DEFAULT false NOT NULL,
	"risk_level" text,
	"skill_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"homework" text,
	"note" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "individual_sessions_clinic_id_id_pk" PRIMARY KEY("clinic_id","id")
);
--> statement-breakpoint
CREATE TABLE "psychotherapy_notes" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"session_id" uuid NOT NULL,
	"author_id" uuid NOT NULL,
	"body" text NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "psychotherapy_notes_clinic_id_id_pk" PRIMARY KEY("clinic_id","id"),
	CONSTRAINT "psychotherapy_notes_one_per_author_key" UNIQUE("clinic_id","session_id","author_id")
);
--> statement-breakpoint
CREATE TABLE "skills" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"module" text NOT NULL,
	"name" text NOT NULL,
	"acronym" text,
	"sort_order" integer NOT NULL,
	"standard" boolean NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "skills_clinic_id_id_pk" PRIMARY KEY("clinic_id","id"),
	CONSTRAINT "skills_clinic_module_name_key" UNIQUE("clinic_id","module","name")
);
--> statement-breakpoint
ALTER TABLE "program_policies" ADD COLUMN "diary_emotions" text[] DEFAULT '{anger,fear,joy,sadness,shame,emotional_misery,physical_misery}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "diary_card_versions" ADD CONSTRAINT "diary_card_versions_clinic_id_card_id_diary_cards_clinic_id_id_fk" FOREIGN KEY ("clinic_id","card_id") REFERENCES "public"."diary_cards"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "diary_card_versions" ADD CONSTRAINT "diary_card_versions_clinic_id_changed_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","changed_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "diary_cards" ADD CONSTRAINT "diary_cards_clinic_id_client_id_clients_clinic_id_id_fk" FOREIGN KEY ("clinic_id","client_id") REFERENCES "public"."clients"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "diary_days" ADD CONSTRAINT "diary_days_clinic_id_card_id_diary_cards_clinic_id_id_fk" FOREIGN KEY ("clinic_id","card_id") REFERENCES "public"."diary_cards"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clinical_events" ADD CONSTRAINT "clinical_events_clinic_id_client_id_clients_clinic_id_id_fk" FOREIGN KEY ("clinic_id","client_id") REFERENCES "public"."clients"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clinical_events" ADD CONSTRAINT "clinical_events_clinic_id_recorded_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","recorded_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "individual_sessions" ADD CONSTRAINT "individual_sessions_clinic_id_client_id_clients_clinic_id_id_fk" FOREIGN KEY ("clinic_id","client_id") REFERENCES "public"."clients"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "individual_sessions" ADD CONSTRAINT "individual_sessions_clinic_id_therapist_id_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","therapist_id") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "individual_sessions" ADD CONSTRAINT "individual_sessions_clinic_id_created_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","created_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "psychotherapy_notes" ADD CONSTRAINT "psychotherapy_notes_clinic_id_session_id_individual_sessions_clinic_id_id_fk" FOREIGN KEY ("clinic_id","session_id") REFERENCES "public"."individual_sessions"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "psychotherapy_notes" ADD CONSTRAINT "psychotherapy_notes_clinic_id_author_id_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","author_id") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "skills" ADD CONSTRAINT "skills_clinic_id_clinics_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."clinics"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "clinical_events_client_time_idx" ON "clinical_events" USING btree ("clinic_id","client_id","occurred_at");--> statement-breakpoint
CREATE UNIQUE INDEX "clinical_events_diary_key" ON "clinical_events" USING btree ("clinic_id","diary_card_id","diary_date","target_id","kind") WHERE "clinical_events"."diary_card_id" is not null;--> statement-breakpoint
CREATE INDEX "individual_sessions_client_time_idx" ON "individual_sessions" USING btree ("clinic_id","client_id","scheduled_start");