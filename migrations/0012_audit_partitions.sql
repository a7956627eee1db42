-- audit_events becomes a table partitioned by month of occurred_at (UTC), converted with its data.
-- A unique key on a partitioned table must contain the partition key, so the primary key becomes
-- (clinic_id, id, occurred_at), and audit_seals gains event_occurred_at (backfilled) so its foreign
-- key to the event can stay. See src/audit/README.md ("Partitions and retention").
ALTER TABLE "audit_seals" DROP CONSTRAINT "audit_seals_clinic_id_event_id_audit_events_clinic_id_id_fk";
--> statement-breakpoint
ALTER TABLE "audit_seals" ADD COLUMN "event_occurred_at" timestamp (3) with time zone;
--> statement-breakpoint
-- A one-time backfill of the new column by the owner; no chained value changes. The guard is
-- switched back on before the transaction that runs the migrations commits.
ALTER TABLE "audit_seals" DISABLE TRIGGER "audit_seals_no_update_delete";
--> statement-breakpoint
UPDATE "audit_seals" s SET "event_occurred_at" = e."occurred_at"
  FROM "audit_events" e WHERE e."clinic_id" = s."clinic_id" AND e."id" = s."event_id";
--> statement-breakpoint
ALTER TABLE "audit_seals" ENABLE ALWAYS TRIGGER "audit_seals_no_update_delete";
--> statement-breakpoint
ALTER TABLE "audit_seals" ALTER COLUMN "event_occurred_at" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "audit_events" RENAME TO "audit_events_unpartitioned";
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"clinic_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"txid" "xid8" DEFAULT pg_current_xact_id() NOT NULL,
	"occurred_at" timestamp (3) with time zone NOT NULL,
	"ended_at" timestamp (3) with time zone,
	"recorded_at" timestamp (3) with time zone DEFAULT clock_timestamp() NOT NULL,
	"request_id" text NOT NULL,
	"actor_type" text NOT NULL,
	"actor_id" uuid,
	"actor_roles" text[] DEFAULT '{}'::text[] NOT NULL,
	"action" text NOT NULL,
	"subtype" text NOT NULL,
	"outcome" text NOT NULL,
	"http_status" smallint NOT NULL,
	"denial_reason" text,
	"method" text NOT NULL,
	"route" text NOT NULL,
	"resource_type" text,
	"resource_id" text,
	"client_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"data_category" text,
	"purpose_of_use" text,
	"access_basis" jsonb,
	"query" jsonb,
	"details" jsonb,
	"result_count" integer,
	"source_ip" text,
	"user_agent" text,
	"service_version" text NOT NULL,
	CONSTRAINT "audit_events_clinic_id_id_occurred_at_pk" PRIMARY KEY("clinic_id","id","occurred_at")
) PARTITION BY RANGE ("occurred_at");
--> statement-breakpoint
-- Row triggers on a partitioned table are cloned onto every partition, present and future, and
-- keep ENABLE ALWAYS. TRUNCATE triggers are per table: each partition gets its own (below).
CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
--> statement-breakpoint
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();
--> statement-breakpoint
ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_no_update_delete;
--> statement-breakpoint
ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_no_truncate;
--> statement-breakpoint
-- Safety net: a record for a month without a partition lands here rather than being refused.
-- Kept empty by creating partitions ahead; audit_ensure_partitions reports what it holds.
CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT;
--> statement-breakpoint
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events_default
  FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();
--> statement-breakpoint
ALTER TABLE audit_events_default ENABLE ALWAYS TRIGGER audit_events_no_truncate;
--> statement-breakpoint
-- The partition for the month starting at month_start (a UTC calendar month), with its TRUNCATE
-- guard. Refuses (returns 'blocked') when the default partition already holds rows of that month:
-- creating it would fail, and moving them would mean deleting audit rows. Those rows stay in the
-- default partition, readable and chained; an owner may move them (README).
CREATE FUNCTION audit_ensure_partition(month_start date) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  first_day date := date_trunc('month', month_start)::date;
  partition_name text := 'audit_events_' || to_char(first_day, '"y"YYYY"m"MM');
  low text := to_char(first_day, 'YYYY-MM-DD') || ' 00:00:00+00';
  high text := to_char((first_day + interval '1 month')::date, 'YYYY-MM-DD') || ' 00:00:00+00';
  stranded bigint;
BEGIN
  IF to_regclass(format('%I.%I', current_schema(), partition_name)) IS NOT NULL THEN
    RETURN 'exists';
  END IF;
  SELECT count(*) INTO stranded FROM audit_events_default
   WHERE occurred_at >= low::timestamptz AND occurred_at < high::timestamptz;
  IF stranded > 0 THEN
    RAISE WARNING 'audit partition % not created: the default partition holds % rows of that month', partition_name, stranded;
    RETURN 'blocked';
  END IF;
  EXECUTE format('CREATE TABLE %I PARTITION OF audit_events FOR VALUES FROM (%L) TO (%L)', partition_name, low, high);
  EXECUTE format('CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change()', partition_name);
  EXECUTE format('ALTER TABLE %I ENABLE ALWAYS TRIGGER audit_events_no_truncate', partition_name);
  RETURN 'created';
END;
$$;
--> statement-breakpoint
-- Partitions from the current UTC month to months_ahead months after it; idempotent. Run at start
-- after the migrations and monthly by `npm run audit:partitions`. One caller at a time.
CREATE FUNCTION audit_ensure_partitions(months_ahead int)
  RETURNS TABLE (partition_name text, status text) LANGUAGE plpgsql AS $$
DECLARE
  this_month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
BEGIN
  PERFORM pg_advisory_xact_lock(x'5ea2'::int);
  FOR i IN 0..greatest(months_ahead, 0) LOOP
    partition_name := 'audit_events_' || to_char((this_month + make_interval(months => i))::date, '"y"YYYY"m"MM');
    status := audit_ensure_partition((this_month + make_interval(months => i))::date);
    RETURN NEXT;
  END LOOP;
END;
$$;
--> statement-breakpoint
-- Every month that has records, then the current month and three ahead.
DO $$
DECLARE
  first_month date := (SELECT date_trunc('month', min(occurred_at) AT TIME ZONE 'UTC')::date FROM audit_events_unpartitioned);
  this_month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
BEGIN
  WHILE first_month IS NOT NULL AND first_month < this_month LOOP
    PERFORM audit_ensure_partition(first_month);
    first_month := (first_month + interval '1 month')::date;
  END LOOP;
  PERFORM audit_ensure_partitions(3);
END;
$$;
--> statement-breakpoint
-- Same column order as the old table; txid and recorded_at are copied, not re-defaulted, so the
-- chain's order and every sealed value stay as they were.
INSERT INTO "audit_events" SELECT * FROM "audit_events_unpartitioned";
--> statement-breakpoint
DROP TABLE "audit_events_unpartitioned";
--> statement-breakpoint
CREATE INDEX "audit_events_txid_idx" ON "audit_events" USING btree ("txid");
--> statement-breakpoint
CREATE INDEX "audit_events_clinic_time_idx" ON "audit_events" USING btree ("clinic_id","occurred_at");
--> statement-breakpoint
CREATE INDEX "audit_events_request_idx" ON "audit_events" USING btree ("request_id");
--> statement-breakpoint
ALTER TABLE "audit_seals" ADD CONSTRAINT "audit_seals_event_fk" FOREIGN KEY ("clinic_id","event_id","event_occurred_at") REFERENCES "public"."audit_events"("clinic_id","id","occurred_at") ON DELETE no action ON UPDATE no action;
