CREATE TABLE "session_agendas" (
	"clinic_id" uuid NOT NULL,
	"session_id" uuid NOT NULL,
	"computed" jsonb NOT NULL,
	"final" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"updated_by" uuid NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "session_agendas_clinic_id_session_id_pk" PRIMARY KEY("clinic_id","session_id")
);
--> statement-breakpoint
ALTER TABLE "program_policies" ADD COLUMN "agenda_urge_threshold" integer DEFAULT 4 NOT NULL;--> statement-breakpoint
ALTER TABLE "session_agendas" ADD CONSTRAINT "session_agendas_clinic_id_session_id_individual_sessions_clinic_id_id_fk" FOREIGN KEY ("clinic_id","session_id") REFERENCES "public"."individual_sessions"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session_agendas" ADD CONSTRAINT "session_agendas_clinic_id_updated_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","updated_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;