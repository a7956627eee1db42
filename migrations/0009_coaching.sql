CREATE TABLE "coaching_contacts" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"client_id" uuid NOT NULL,
	"staff_id" uuid NOT NULL,
	"initiated_by" text NOT NULL,
	"channel" text NOT NULL,
	"requested_at" timestamp (3) with time zone NOT NULL,
	"responded_at" timestamp (3) with time zone,
	"started_at" timestamp (3) with time zone,
	"ended_at" timestamp (3) with time zone,
	"purpose" text NOT NULL,
	"urges" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"skill_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"plan" text,
	"outcome" text,
	"risk_assessed" boolean DEFAULT false NOT NULL,
	"escalation" text DEFAULT 'none' NOT NULL,
	"response_minutes" integer,
	"duration_minutes" integer,
	"after_hours" boolean NOT NULL,
	"over_minute_limit" boolean NOT NULL,
	"outside_limits" boolean NOT NULL,
	"limits_version" integer,
	"rule_status" text NOT NULL,
	"rule_event_id" uuid,
	"redirection" text,
	"safety_check_done" boolean,
	"override_reason" text,
	"created_by" uuid NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "coaching_contacts_clinic_id_id_pk" PRIMARY KEY("clinic_id","id")
);
--> statement-breakpoint
CREATE TABLE "coaching_limits" (
	"clinic_id" uuid NOT NULL,
	"staff_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"effective_from" timestamp (3) with time zone NOT NULL,
	"windows" jsonb NOT NULL,
	"channels" text[] NOT NULL,
	"max_minutes" integer NOT NULL,
	"response_minutes" integer NOT NULL,
	"backup_staff_id" uuid,
	"created_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "coaching_limits_clinic_id_staff_id_version_pk" PRIMARY KEY("clinic_id","staff_id","version")
);
--> statement-breakpoint
ALTER TABLE "coaching_contacts" ADD CONSTRAINT "coaching_contacts_clinic_id_client_id_clients_clinic_id_id_fk" FOREIGN KEY ("clinic_id","client_id") REFERENCES "public"."clients"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "coaching_contacts" ADD CONSTRAINT "coaching_contacts_clinic_id_staff_id_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","staff_id") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "coaching_contacts" ADD CONSTRAINT "coaching_contacts_clinic_id_created_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","created_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "coaching_contacts" ADD CONSTRAINT "coaching_contacts_clinic_id_rule_event_id_clinical_events_clinic_id_id_fk" FOREIGN KEY ("clinic_id","rule_event_id") REFERENCES "public"."clinical_events"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "coaching_limits" ADD CONSTRAINT "coaching_limits_clinic_id_staff_id_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","staff_id") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "coaching_limits" ADD CONSTRAINT "coaching_limits_clinic_id_backup_staff_id_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","backup_staff_id") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "coaching_limits" ADD CONSTRAINT "coaching_limits_clinic_id_created_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","created_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "coaching_contacts_client_time_idx" ON "coaching_contacts" USING btree ("clinic_id","client_id","requested_at");--> statement-breakpoint
CREATE INDEX "coaching_contacts_staff_time_idx" ON "coaching_contacts" USING btree ("clinic_id","staff_id","requested_at");--> statement-breakpoint
CREATE INDEX "coaching_limits_in_force_idx" ON "coaching_limits" USING btree ("clinic_id","staff_id","effective_from");