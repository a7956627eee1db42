CREATE TABLE "team_agenda_items" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"meeting_id" uuid NOT NULL,
	"requested_by" uuid NOT NULL,
	"requested_at" timestamp (3) with time zone NOT NULL,
	"client_id" uuid,
	"category" text NOT NULL,
	"question" text NOT NULL,
	"minutes_requested" integer NOT NULL,
	"clarity" text,
	"motivation" text,
	"obstacles" text[] DEFAULT '{}'::text[] NOT NULL,
	"obstacles_note" text,
	"outcome" text,
	"plan" text,
	"follow_up_due" date,
	"status" text DEFAULT 'open' NOT NULL,
	"carried_from_id" uuid,
	"proposal_id" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "team_agenda_items_clinic_id_id_pk" PRIMARY KEY("clinic_id","id")
);
--> statement-breakpoint
CREATE TABLE "team_agenda_proposals" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"meeting_id" uuid NOT NULL,
	"client_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"category" text NOT NULL,
	"summary" text NOT NULL,
	"evidence" jsonb NOT NULL,
	"status" text DEFAULT 'proposed' NOT NULL,
	"decided_by" uuid,
	"decided_at" timestamp (3) with time zone,
	"dismiss_reason" text,
	"agenda_item_id" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "team_agenda_proposals_clinic_id_id_pk" PRIMARY KEY("clinic_id","id"),
	CONSTRAINT "team_agenda_proposals_key" UNIQUE("clinic_id","meeting_id","client_id","kind")
);
--> statement-breakpoint
CREATE TABLE "team_meetings" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"team_id" uuid NOT NULL,
	"date" date NOT NULL,
	"duration_minutes" integer NOT NULL,
	"attendance" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"meeting_leader_id" uuid,
	"mindfulness_leader_id" uuid,
	"observer_id" uuid,
	"note_taker_id" uuid,
	"agreement_read" text,
	"observer_notes" text,
	"minutes" text,
	"prefill_since" timestamp (3) with time zone NOT NULL,
	"prefilled_at" timestamp (3) with time zone NOT NULL,
	"created_by" uuid NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "team_meetings_clinic_id_id_pk" PRIMARY KEY("clinic_id","id"),
	CONSTRAINT "team_meetings_team_date_key" UNIQUE("clinic_id","team_id","date")
);
--> statement-breakpoint
CREATE TABLE "team_members" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"team_id" uuid NOT NULL,
	"staff_id" uuid NOT NULL,
	"joined_on" date NOT NULL,
	"left_on" date,
	"agreements_accepted_at" timestamp (3) with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "team_members_clinic_id_id_pk" PRIMARY KEY("clinic_id","id")
);
--> statement-breakpoint
CREATE TABLE "teams" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"program_id" uuid NOT NULL,
	"name" text NOT NULL,
	"lead_id" uuid NOT NULL,
	"category_order" text[],
	"opening_minutes" integer DEFAULT 10 NOT NULL,
	"coaching_contacts_threshold" integer DEFAULT 5 NOT NULL,
	"after_hours_share_threshold" double precision DEFAULT 0.5 NOT NULL,
	"created_by" uuid NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "teams_clinic_id_id_pk" PRIMARY KEY("clinic_id","id"),
	CONSTRAINT "teams_clinic_name_key" UNIQUE("clinic_id","name")
);
--> statement-breakpoint
ALTER TABLE "team_agenda_items" ADD CONSTRAINT "team_agenda_items_clinic_id_meeting_id_team_meetings_clinic_id_id_fk" FOREIGN KEY ("clinic_id","meeting_id") REFERENCES "public"."team_meetings"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_agenda_items" ADD CONSTRAINT "team_agenda_items_clinic_id_client_id_clients_clinic_id_id_fk" FOREIGN KEY ("clinic_id","client_id") REFERENCES "public"."clients"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_agenda_items" ADD CONSTRAINT "team_agenda_items_clinic_id_requested_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","requested_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_agenda_proposals" ADD CONSTRAINT "team_agenda_proposals_clinic_id_meeting_id_team_meetings_clinic_id_id_fk" FOREIGN KEY ("clinic_id","meeting_id") REFERENCES "public"."team_meetings"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_agenda_proposals" ADD CONSTRAINT "team_agenda_proposals_clinic_id_client_id_clients_clinic_id_id_fk" FOREIGN KEY ("clinic_id","client_id") REFERENCES "public"."clients"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_agenda_proposals" ADD CONSTRAINT "team_agenda_proposals_clinic_id_decided_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","decided_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_meetings" ADD CONSTRAINT "team_meetings_clinic_id_team_id_teams_clinic_id_id_fk" FOREIGN KEY ("clinic_id","team_id") REFERENCES "public"."teams"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_meetings" ADD CONSTRAINT "team_meetings_clinic_id_created_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","created_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_meetings" ADD CONSTRAINT "team_meetings_clinic_id_meeting_leader_id_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","meeting_leader_id") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_meetings" ADD CONSTRAINT "team_meetings_clinic_id_mindfulness_leader_id_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","mindfulness_leader_id") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_meetings" ADD CONSTRAINT "team_meetings_clinic_id_observer_id_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","observer_id") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_meetings" ADD CONSTRAINT "team_meetings_clinic_id_note_taker_id_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","note_taker_id") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_members" ADD CONSTRAINT "team_members_clinic_id_team_id_teams_clinic_id_id_fk" FOREIGN KEY ("clinic_id","team_id") REFERENCES "public"."teams"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_members" ADD CONSTRAINT "team_members_clinic_id_staff_id_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","staff_id") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "teams" ADD CONSTRAINT "teams_clinic_id_program_id_programs_clinic_id_id_fk" FOREIGN KEY ("clinic_id","program_id") REFERENCES "public"."programs"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "teams" ADD CONSTRAINT "teams_clinic_id_lead_id_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","lead_id") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "teams" ADD CONSTRAINT "teams_clinic_id_created_by_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","created_by") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "team_agenda_items_meeting_idx" ON "team_agenda_items" USING btree ("clinic_id","meeting_id");--> statement-breakpoint
CREATE UNIQUE INDEX "team_agenda_items_carried_key" ON "team_agenda_items" USING btree ("clinic_id","carried_from_id") WHERE "team_agenda_items"."carried_from_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "team_members_one_open_key" ON "team_members" USING btree ("clinic_id","team_id","staff_id") WHERE "team_members"."left_on" is null;--> statement-breakpoint
CREATE INDEX "team_members_staff_idx" ON "team_members" USING btree ("clinic_id","staff_id");--> statement-breakpoint
ALTER TABLE "clients" ADD CONSTRAINT "clients_clinic_id_team_id_teams_clinic_id_id_fk" FOREIGN KEY ("clinic_id","team_id") REFERENCES "public"."teams"("clinic_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "clients_team_idx" ON "clients" USING btree ("clinic_id","team_id");