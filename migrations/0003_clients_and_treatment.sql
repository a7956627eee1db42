CREATE TABLE "clients" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"given_name" text NOT NULL,
	"family_name" text NOT NULL,
	"preferred_name" text,
	"date_of_birth" date NOT NULL,
	"pronouns" text,
	"phone" text,
	"email" text,
	"emergency_contact" jsonb,
	"external_record_number" text,
	"program_id" uuid NOT NULL,
	"primary_therapist_id" uuid,
	"team_id" uuid,
	"status" text NOT NULL,
	"entered_in_error_at" timestamp (3) with time zone,
	"entered_in_error_reason" text,
	"entered_in_error_by" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "clients_clinic_id_id_pk" PRIMARY KEY("clinic_id","id")
);
--> statement-breakpoint
CREATE TABLE "goal_revisions" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"goal_id" uuid NOT NULL,
	"note" text NOT NULL,
	"status" text,
	"text" text,
	"revised_by" uuid NOT NULL,
	"revised_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "goal_revisions_clinic_id_id_pk" PRIMARY KEY("clinic_id","id")
);
--> statement-breakpoint
CREATE TABLE "goals" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"client_id" uuid NOT NULL,
	"text" text NOT NULL,
	"domain" text,
	"status" text NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "goals_clinic_id_id_pk" PRIMARY KEY("clinic_id","id")
);
--> statement-breakpoint
CREATE TABLE "program_policies" (
	"clinic_id" uuid NOT NULL,
	"program_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"effective_from" date NOT NULL,
	"four_miss_threshold" integer NOT NULL,
	"miss_counting_unit" text NOT NULL,
	"counted_modalities" text[] NOT NULL,
	"lateness_miss_minutes" integer,
	"late_cancel_miss_hours" integer,
	"override_allowed" boolean NOT NULL,
	"twenty_four_hour_rule" boolean NOT NULL,
	"twenty_four_hour_triggers" text[] NOT NULL,
	"contract_weeks" integer NOT NULL,
	"skills_cycle_weeks" integer NOT NULL,
	"group_size_limit" integer NOT NULL,
	"entry_at_module_start_only" boolean NOT NULL,
	"group_requires_individual" boolean NOT NULL,
	"week_starts_on" integer NOT NULL,
	"created_by" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "program_policies_clinic_id_program_id_version_pk" PRIMARY KEY("clinic_id","program_id","version")
);
--> statement-breakpoint
CREATE TABLE "programs" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "programs_clinic_id_id_pk" PRIMARY KEY("clinic_id","id"),
	CONSTRAINT "programs_clinic_name_key" UNIQUE("clinic_id","name")
);
--> statement-breakpoint
CREATE TABLE "targets" (
	"clinic_id" uuid NOT NULL,
	"target_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"client_id" uuid NOT NULL,
	"category" text NOT NULL,
	"life_threatening_subtype" text,
	"therapy_interfering_actor" text,
	"direction" text NOT NULL,
	"measure" text NOT NULL,
	"label" text NOT NULL,
	"effective_from" timestamp (3) with time zone NOT NULL,
	"effective_to" timestamp (3) with time zone,
	"end_reason" text,
	"end_note" text,
	"created_by" uuid NOT NULL,
	CONSTRAINT "targets_clinic_id_target_id_version_pk" PRIMARY KEY("clinic_id","target_id","version")
);
--> statement-breakpoint
CREATE TABLE "commitments" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"client_id" uuid NOT NULL,
	"episode_id" uuid,
	"type" text NOT NULL,
	"items" text[] NOT NULL,
	"method" text NOT NULL,
	"agreed_at" timestamp (3) with time zone NOT NULL,
	"recorded_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "commitments_clinic_id_id_pk" PRIMARY KEY("clinic_id","id")
);
--> statement-breakpoint
CREATE TABLE "stage_assignments" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"client_id" uuid NOT NULL,
	"stage" text NOT NULL,
	"from_date" date NOT NULL,
	"to_date" date,
	"rationale" text NOT NULL,
	"decided_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stage_assignments_clinic_id_id_pk" PRIMARY KEY("clinic_id","id")
);
--> statement-breakpoint
CREATE TABLE "treatment_episodes" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"client_id" uuid NOT NULL,
	"program_id" uuid NOT NULL,
	"policy_version" integer NOT NULL,
	"status" text NOT NULL,
	"referred_on" date NOT NULL,
	"pretreatment_on" date,
	"contract_start" date,
	"contract_end" date,
	"discharged_on" date,
	"discharge_reason" text,
	"re_entry_eligible_on" date,
	"notes" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "treatment_episodes_clinic_id_id_pk" PRIMARY KEY("clinic_id","id")
);
--> statement-breakpoint
ALTER TABLE "clients" ADD CONSTRAINT "clients_clinic_id_clinics_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."clinics"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clients" ADD CONSTRAINT "clients_clinic_id_program_id_programs_clinic_id_id_fk" FOREIGN KEY ("clinic_id","program_id") REFERENCES "public"."programs"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clients" ADD CONSTRAINT "clients_clinic_id_primary_therapist_id_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","primary_therapist_id") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clients" ADD CONSTRAINT "clients_clinic_id_entered_in_error_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","entered_in_error_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "goal_revisions" ADD CONSTRAINT "goal_revisions_clinic_id_goal_id_goals_clinic_id_id_fk" FOREIGN KEY ("clinic_id","goal_id") REFERENCES "public"."goals"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "goal_revisions" ADD CONSTRAINT "goal_revisions_clinic_id_revised_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","revised_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "goals" ADD CONSTRAINT "goals_clinic_id_client_id_clients_clinic_id_id_fk" FOREIGN KEY ("clinic_id","client_id") REFERENCES "public"."clients"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "goals" ADD CONSTRAINT "goals_clinic_id_created_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","created_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "program_policies" ADD CONSTRAINT "program_policies_clinic_id_program_id_programs_clinic_id_id_fk" FOREIGN KEY ("clinic_id","program_id") REFERENCES "public"."programs"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "program_policies" ADD CONSTRAINT "program_policies_clinic_id_created_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","created_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "programs" ADD CONSTRAINT "programs_clinic_id_clinics_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."clinics"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "targets" ADD CONSTRAINT "targets_clinic_id_client_id_clients_clinic_id_id_fk" FOREIGN KEY ("clinic_id","client_id") REFERENCES "public"."clients"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "targets" ADD CONSTRAINT "targets_clinic_id_created_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","created_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "commitments" ADD CONSTRAINT "commitments_clinic_id_client_id_clients_clinic_id_id_fk" FOREIGN KEY ("clinic_id","client_id") REFERENCES "public"."clients"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "commitments" ADD CONSTRAINT "commitments_clinic_id_episode_id_treatment_episodes_clinic_id_id_fk" FOREIGN KEY ("clinic_id","episode_id") REFERENCES "public"."treatment_episodes"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "commitments" ADD CONSTRAINT "commitments_clinic_id_recorded_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","recorded_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stage_assignments" ADD CONSTRAINT "stage_assignments_clinic_id_client_id_clients_clinic_id_id_fk" FOREIGN KEY ("clinic_id","client_id") REFERENCES "public"."clients"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stage_assignments" ADD CONSTRAINT "stage_assignments_clinic_id_decided_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","decided_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "treatment_episodes" ADD CONSTRAINT "treatment_episodes_clinic_id_client_id_clients_clinic_id_id_fk" FOREIGN KEY ("clinic_id","client_id") REFERENCES "public"."clients"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "treatment_episodes" ADD CONSTRAINT "treatment_episodes_clinic_id_program_id_programs_clinic_id_id_fk" FOREIGN KEY ("clinic_id","program_id") REFERENCES "public"."programs"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "treatment_episodes" ADD CONSTRAINT "treatment_episodes_clinic_id_created_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","created_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "clients_external_record_key" ON "clients" USING btree ("clinic_id","external_record_number") WHERE "clients"."external_record_number" is not null;--> statement-breakpoint
CREATE INDEX "clients_therapist_idx" ON "clients" USING btree ("clinic_id","primary_therapist_id");--> statement-breakpoint
CREATE INDEX "goal_revisions_goal_idx" ON "goal_revisions" USING btree ("clinic_id","goal_id","revised_at");--> statement-breakpoint
CREATE INDEX "goals_client_idx" ON "goals" USING btree ("clinic_id","client_id");--> statement-breakpoint
CREATE UNIQUE INDEX "targets_one_current_key" ON "targets" USING btree ("clinic_id","target_id") WHERE "targets"."effective_to" is null;--> statement-breakpoint
CREATE INDEX "targets_client_idx" ON "targets" USING btree ("clinic_id","client_id");--> statement-breakpoint
CREATE INDEX "commitments_client_idx" ON "commitments" USING btree ("clinic_id","client_id","agreed_at");--> statement-breakpoint
CREATE INDEX "stage_assignments_client_idx" ON "stage_assignments" USING btree ("clinic_id","client_id","from_date");--> statement-breakpoint
CREATE UNIQUE INDEX "treatment_episodes_one_open_key" ON "treatment_episodes" USING btree ("clinic_id","client_id") WHERE "treatment_episodes"."status" <> 'discharged';