-- Idempotency-Key for POSTs: one row per (clinic, staff member, key), claimed as the first statement
-- of the request's own transaction (so it commits exactly when the change does), then completed with
-- the response a retry gets back. Rows older than 24 hours are free to reuse and purged by the app.
-- See src/plugins/idempotency.ts.
CREATE TABLE "idempotency_keys" (
	"clinic_id" uuid NOT NULL,
	"staff_id" uuid NOT NULL,
	"key" text NOT NULL,
	"method" text NOT NULL,
	"route" text NOT NULL,
	"request_hash" text NOT NULL,
	"request_id" text NOT NULL,
	"resource_id" text,
	"client_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"response_status" integer,
	"response_headers" jsonb,
	"response_body" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_clinic_id_staff_id_key_pk" PRIMARY KEY("clinic_id","staff_id","key")
);
--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_clinic_id_staff_id_staff_clinic_id_id_fk" FOREIGN KEY ("clinic_id","staff_id") REFERENCES "public"."staff"("clinic_id","id") ON DELETE no action ON UPDATE no action;
--> statement-breakpoint
-- The purge deletes by age across clinics.
CREATE INDEX "idempotency_keys_created_idx" ON "idempotency_keys" USING btree ("created_at");
