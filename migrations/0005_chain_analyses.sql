CREATE TABLE "chain_analyses" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"client_id" uuid NOT NULL,
	"target_id" uuid,
	"target_version" integer,
	"event_id" uuid,
	"behaviour_at" timestamp (3) with time zone NOT NULL,
	"problem_behaviour" text NOT NULL,
	"prompting_event" text,
	"vulnerabilities" text[] DEFAULT '{}'::text[] NOT NULL,
	"links" jsonb NOT NULL,
	"consequences" jsonb NOT NULL,
	"solutions" text[] DEFAULT '{}'::text[] NOT NULL,
	"repair" text,
	"commitment" text,
	"completed_in" text NOT NULL,
	"session_id" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "chain_analyses_clinic_id_id_pk" PRIMARY KEY("clinic_id","id")
);
--> statement-breakpoint
ALTER TABLE "chain_analyses" ADD CONSTRAINT "chain_analyses_clinic_id_client_id_clients_clinic_id_id_fk" FOREIGN KEY ("clinic_id","client_id") REFERENCES "public"."clients"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chain_analyses" ADD CONSTRAINT "chain_analyses_clinic_id_event_id_clinical_events_clinic_id_id_fk" FOREIGN KEY ("clinic_id","event_id") REFERENCES "public"."clinical_events"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chain_analyses" ADD CONSTRAINT "chain_analyses_clinic_id_session_id_individual_sessions_clinic_id_id_fk" FOREIGN KEY ("clinic_id","session_id") REFERENCES "public"."individual_sessions"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chain_analyses" ADD CONSTRAINT "chain_analyses_clinic_id_created_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","created_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "chain_analyses_client_idx" ON "chain_analyses" USING btree ("clinic_id","client_id","behaviour_at");--> statement-breakpoint
CREATE INDEX "chain_analyses_event_idx" ON "chain_analyses" USING btree ("clinic_id","event_id");