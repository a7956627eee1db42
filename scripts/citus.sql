-- Distributes Dialectic's schema over a Citus cluster. Every tenant table (one with clinic_id) is
-- hash-distributed by clinic_id in one colocation group, so a clinic's rows of every table live in
-- the same shard group and each request's queries and foreign keys stay on one node. The tables
-- without a clinic are reference tables (copied to every node) or stay on the coordinator.
--
-- Run once, with psql, on the coordinator, as the database owner: after `npm run db:migrate` has
-- created the schema there, and before the first clinic is created (see docs/scaling.md, "Moving
-- to Citus"). Requires the citus extension in the database and the coordinator registered with
-- citus_set_coordinator_host (for the coordinator-local table below).
--
--   psql "$COORDINATOR_URL" -f scripts/citus.sql
--
-- test/foundation/citus-script.test.ts reads a migrated database and fails when a tenant table is
-- missing here, when a key of a tenant table lacks clinic_id, or when a table without clinic_id is
-- neither a reference table nor kept local with a reason. A migration that adds a table adds its
-- line here, in foreign-key order; on a running cluster, run that line on its own.

\set ON_ERROR_STOP on

-- The append-only guards (migrations 0001, 0002, 0012) are triggers. Citus distributes a table with
-- triggers, and accepts CREATE TRIGGER on one, only with this setting on; audit_ensure_partition
-- creates a TRUNCATE guard on every new monthly partition at each start, so it is set for the
-- database, not only for this script.
ALTER DATABASE :"DBNAME" SET citus.enable_unsafe_triggers TO on;

-- Row-level security (migration 0014) reads a per-transaction setting on the node that runs the
-- shard query. Citus forwards SET LOCAL statements to the workers only with this setting.
ALTER DATABASE :"DBNAME" SET citus.propagate_set_commands TO 'local';

BEGIN;
SET LOCAL citus.enable_unsafe_triggers TO on;
-- Distributing tables that have foreign keys to a reference table, in one transaction, needs the
-- sequential mode.
SET LOCAL citus.multi_shard_modify_mode TO 'sequential';

-- Reference tables: one copy on every node, so a foreign key from any shard can point at them.
-- clinics: the tenants themselves, looked up by slug at sign-in; few rows, rarely written.
SELECT create_reference_table('clinics');

-- Coordinator-local tables, kept out of the shards:
-- login_throttle: failed-sign-in counters keyed by account or source address, before any clinic is
-- known; written on every failed sign-in (and cleared on success), so as a reference table an
-- attack would turn each failure into a write on every node. No foreign keys, never joined with a
-- tenant table. Added to the metadata so that every node can query it.
SELECT citus_add_local_table_to_metadata('login_throttle');

-- Tenant tables, distributed by clinic_id and colocated with staff. Order: a table after every
-- table its foreign keys reference.
SELECT create_distributed_table('staff', 'clinic_id');
SELECT create_distributed_table('programs', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('skills', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('teams', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('program_policies', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('clients', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('goals', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('goal_revisions', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('targets', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('treatment_episodes', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('commitments', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('stage_assignments', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('four_miss_overrides', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('diary_cards', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('diary_card_versions', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('diary_days', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('clinical_events', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('individual_sessions', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('psychotherapy_notes', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('session_agendas', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('chain_analyses', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('skills_groups', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('group_sessions', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('group_enrollments', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('group_attendance', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('coaching_limits', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('coaching_contacts', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('team_members', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('team_meetings', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('team_agenda_items', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('team_agenda_proposals', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('break_glass_grants', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('break_glass_reviews', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('idempotency_keys', 'clinic_id', colocate_with => 'staff');
-- Partitioned by month: distributing the parent distributes every partition, and a partition
-- created later (audit_ensure_partition) is distributed as it is created.
SELECT create_distributed_table('audit_events', 'clinic_id', colocate_with => 'staff');
SELECT create_distributed_table('audit_seals', 'clinic_id', colocate_with => 'staff');

-- Shards get copies of the row triggers, but not necessarily their ENABLE ALWAYS; these statements
-- are propagated to every shard (and, on audit_events, recurse to every partition). TRUNCATE
-- triggers stay on the coordinator's tables, where Citus runs a TRUNCATE before sending it on.
ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_no_update_delete;
ALTER TABLE audit_seals ENABLE ALWAYS TRIGGER audit_seals_no_update_delete;
ALTER TABLE break_glass_reviews ENABLE ALWAYS TRIGGER break_glass_reviews_no_update_delete;

COMMIT;
