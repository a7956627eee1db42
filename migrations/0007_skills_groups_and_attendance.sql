CREATE TABLE "four_miss_overrides" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"client_id" uuid NOT NULL,
	"episode_id" uuid NOT NULL,
	"modality" text NOT NULL,
	"met_on" date NOT NULL,
	"streak" integer NOT NULL,
	"policy_version" integer NOT NULL,
	"reason" text NOT NULL,
	"overridden_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "four_miss_overrides_clinic_id_id_pk" PRIMARY KEY("clinic_id","id")
);
--> statement-breakpoint
CREATE TABLE "group_attendance" (
	"clinic_id" uuid NOT NULL,
	"session_id" uuid NOT NULL,
	"client_id" uuid NOT NULL,
	"status" text NOT NULL,
	"late_minutes" integer,
	"left_early_minutes" integer,
	"notice_hours" integer,
	"homework_reviewed" boolean DEFAULT false NOT NULL,
	"recorded_by" uuid NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "group_attendance_clinic_id_session_id_client_id_pk" PRIMARY KEY("clinic_id","session_id","client_id")
);
--> statement-breakpoint
CREATE TABLE "group_enrollments" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"group_id" uuid NOT NULL,
	"client_id" uuid NOT NULL,
	"start_date" date NOT NULL,
	"end_date" date,
	"end_reason" text,
	"end_note" text,
	"created_by" uuid NOT NULL,
	"ended_by" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "group_enrollments_clinic_id_id_pk" PRIMARY KEY("clinic_id","id")
);
--> statement-breakpoint
CREATE TABLE "group_sessions" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"group_id" uuid NOT NULL,
	"date" date NOT NULL,
	"module" text NOT NULL,
	"module_week" integer NOT NULL,
	"cycle_week" integer NOT NULL,
	"skill_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"homework" text,
	"status" text DEFAULT 'scheduled' NOT NULL,
	"cancel_reason" text,
	"cancelled_by" uuid,
	"cancelled_at" timestamp (3) with time zone,
	"created_by" uuid NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "group_sessions_clinic_id_id_pk" PRIMARY KEY("clinic_id","id"),
	CONSTRAINT "group_sessions_group_date_key" UNIQUE("clinic_id","group_id","date")
);
--> statement-breakpoint
CREATE TABLE "skills_groups" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"program_id" uuid NOT NULL,
	"name" text NOT NULL,
	"leader_id" uuid NOT NULL,
	"co_leader_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"weekday" integer NOT NULL,
	"start_time" text NOT NULL,
	"duration_minutes" integer NOT NULL,
	"capacity" integer,
	"curriculum" jsonb NOT NULL,
	"cycle_start_date" date NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_by" uuid NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "skills_groups_clinic_id_id_pk" PRIMARY KEY("clinic_id","id"),
	CONSTRAINT "skills_groups_clinic_name_key" UNIQUE("clinic_id","name")
);
--> statement-breakpoint
ALTER TABLE "treatment_episodes" ADD COLUMN "four_miss_met_on" date;--> statement-breakpoint
ALTER TABLE "treatment_episodes" ADD COLUMN "four_miss_modalities" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "four_miss_overrides" ADD CONSTRAINT "four_miss_overrides_clinic_id_client_id_clients_clinic_id_id_fk" FOREIGN KEY ("clinic_id","client_id") REFERENCES "public"."clients"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "four_miss_overrides" ADD CONSTRAINT "four_miss_overrides_clinic_id_episode_id_treatment_episodes_clinic_id_id_fk" FOREIGN KEY ("clinic_id","episode_id") REFERENCES "public"."treatment_episodes"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "four_miss_overrides" ADD CONSTRAINT "four_miss_overrides_clinic_id_overridden_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","overridden_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_attendance" ADD CONSTRAINT "group_attendance_clinic_id_session_id_group_sessions_clinic_id_id_fk" FOREIGN KEY ("clinic_id","session_id") REFERENCES "public"."group_sessions"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_attendance" ADD CONSTRAINT "group_attendance_clinic_id_client_id_clients_clinic_id_id_fk" FOREIGN KEY ("clinic_id","client_id") REFERENCES "public"."clients"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_attendance" ADD CONSTRAINT "group_attendance_clinic_id_recorded_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","recorded_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_enrollments" ADD CONSTRAINT "group_enrollments_clinic_id_group_id_skills_groups_clinic_id_id_fk" FOREIGN KEY ("clinic_id","group_id") REFERENCES "public"."skills_groups"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_enrollments" ADD CONSTRAINT "group_enrollments_clinic_id_client_id_clients_clinic_id_id_fk" FOREIGN KEY ("clinic_id","client_id") REFERENCES "public"."clients"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_enrollments" ADD CONSTRAINT "group_enrollments_clinic_id_created_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","created_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_enrollments" ADD CONSTRAINT "group_enrollments_clinic_id_ended_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","ended_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_sessions" ADD CONSTRAINT "group_sessions_clinic_id_group_id_skills_groups_clinic_id_id_fk" FOREIGN KEY ("clinic_id","group_id") REFERENCES "public"."skills_groups"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_sessions" ADD CONSTRAINT "group_sessions_clinic_id_created_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","created_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_sessions" ADD CONSTRAINT "group_sessions_clinic_id_cancelled_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","cancelled_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "skills_groups" ADD CONSTRAINT "skills_groups_clinic_id_program_id_programs_clinic_id_id_fk" FOREIGN KEY ("clinic_id","program_id") REFERENCES "public"."programs"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "skills_groups" ADD CONSTRAINT "skills_groups_clinic_id_leader_id_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","leader_id") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "skills_groups" ADD CONSTRAINT "skills_groups_clinic_id_created_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","created_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "four_miss_overrides_episode_idx" ON "four_miss_overrides" USING btree ("clinic_id","episode_id","modality");--> statement-breakpoint
CREATE INDEX "group_attendance_client_idx" ON "group_attendance" USING btree ("clinic_id","client_id");--> statement-breakpoint
CREATE INDEX "group_enrollments_group_idx" ON "group_enrollments" USING btree ("clinic_id","group_id","start_date");--> statement-breakpoint
CREATE INDEX "group_enrollments_client_idx" ON "group_enrollments" USING btree ("clinic_id","client_id","start_date");