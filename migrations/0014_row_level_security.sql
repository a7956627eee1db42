-- Row-level security as a second line behind the services' own clinic conditions: a query that
-- forgets `clinic_id = …` still sees only the caller's clinic. Policies are written for two roles
-- without login that the application's login role is a member of:
--   dialectic_app          every request (src/plugins/request-scope.ts): rows of the clinic named by
--                          the transaction's app.clinic_id setting; with none set, no rows at all
--   dialectic_maintenance  background work across clinics: sealing the audit trail and purging
--                          expired idempotency keys, nothing else
-- Each transaction names its role and clinic with set_config(…, true) (src/db/scope.ts), so nothing
-- outlives it on a pooled connection. Neither role owns a table or has BYPASSRLS. The owner (the
-- role that runs migrations) is not subject to these policies; the application must not log in as
-- the owner in production (README: "Database roles").
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dialectic_app') THEN
    CREATE ROLE dialectic_app NOLOGIN NOBYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dialectic_maintenance') THEN
    CREATE ROLE dialectic_maintenance NOLOGIN NOBYPASSRLS;
  END IF;
END
$$;
--> statement-breakpoint
-- The role running migrations may switch to both (the app does, per transaction). Where it may not
-- grant them, an administrator grants them to the application's login role instead.
DO $$
BEGIN
  EXECUTE format('GRANT dialectic_app, dialectic_maintenance TO %I', current_user);
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'grant dialectic_app and dialectic_maintenance to the application''s login role';
END
$$;
--> statement-breakpoint
CREATE FUNCTION app_clinic_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('app.clinic_id', true), '')::uuid $$;
--> statement-breakpoint
-- Before sign-in no clinic is in scope: the one lookup a login needs, and nothing more.
CREATE FUNCTION clinic_for_slug(wanted text) RETURNS TABLE (id uuid) LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$ SELECT c.id FROM public.clinics c WHERE c.slug = wanted $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION clinic_for_slug(text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION clinic_for_slug(text) TO dialectic_app;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO dialectic_app, dialectic_maintenance;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON login_throttle TO dialectic_app;
--> statement-breakpoint
-- The clinic row itself: its own clinic only.
ALTER TABLE clinics ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, UPDATE ON clinics TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON clinics TO dialectic_app USING (id = app_clinic_id()) WITH CHECK (id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE break_glass_grants ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON break_glass_grants TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON break_glass_grants TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE break_glass_reviews ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON break_glass_reviews TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON break_glass_reviews TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE chain_analyses ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON chain_analyses TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON chain_analyses TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE clients ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON clients TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON clients TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE clinical_events ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON clinical_events TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON clinical_events TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE coaching_contacts ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON coaching_contacts TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON coaching_contacts TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE coaching_limits ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON coaching_limits TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON coaching_limits TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE commitments ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON commitments TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON commitments TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE diary_card_versions ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON diary_card_versions TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON diary_card_versions TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE diary_cards ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON diary_cards TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON diary_cards TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE diary_days ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON diary_days TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON diary_days TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE four_miss_overrides ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON four_miss_overrides TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON four_miss_overrides TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE goal_revisions ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON goal_revisions TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON goal_revisions TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE goals ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON goals TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON goals TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE group_attendance ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON group_attendance TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON group_attendance TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE group_enrollments ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON group_enrollments TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON group_enrollments TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE group_sessions ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON group_sessions TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON group_sessions TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE individual_sessions ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON individual_sessions TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON individual_sessions TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE program_policies ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON program_policies TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON program_policies TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE programs ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON programs TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON programs TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE psychotherapy_notes ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON psychotherapy_notes TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON psychotherapy_notes TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE session_agendas ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON session_agendas TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON session_agendas TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE skills_groups ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON skills_groups TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON skills_groups TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE staff ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON staff TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON staff TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE stage_assignments ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON stage_assignments TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON stage_assignments TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE targets ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON targets TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON targets TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE team_agenda_items ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON team_agenda_items TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON team_agenda_items TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE team_agenda_proposals ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON team_agenda_proposals TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON team_agenda_proposals TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE team_meetings ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON team_meetings TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON team_meetings TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE team_members ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON team_members TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON team_members TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE teams ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON teams TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON teams TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE treatment_episodes ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON treatment_episodes TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON treatment_episodes TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
ALTER TABLE skills ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON skills TO dialectic_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON skills TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
-- Idempotency keys: the app reads and writes its clinic's; maintenance purges expired ones.
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO dialectic_app;
--> statement-breakpoint
GRANT SELECT, DELETE ON idempotency_keys TO dialectic_maintenance;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON idempotency_keys TO dialectic_app USING (clinic_id = app_clinic_id()) WITH CHECK (clinic_id = app_clinic_id());
--> statement-breakpoint
CREATE POLICY maintenance ON idempotency_keys TO dialectic_maintenance USING (true);
--> statement-breakpoint
-- The audit trail: append-only for the app (no UPDATE or DELETE grant, on top of the triggers).
-- Records are written for every clinic — and for requests that name none — by the group-commit
-- writer, so inserts are not limited; reading is. Sealing reads every clinic's new records.
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT ON audit_events TO dialectic_app;
--> statement-breakpoint
GRANT SELECT ON audit_events TO dialectic_maintenance;
--> statement-breakpoint
CREATE POLICY tenant_read ON audit_events FOR SELECT TO dialectic_app USING (clinic_id = app_clinic_id());
--> statement-breakpoint
CREATE POLICY append ON audit_events FOR INSERT TO dialectic_app WITH CHECK (true);
--> statement-breakpoint
CREATE POLICY maintenance ON audit_events FOR SELECT TO dialectic_maintenance USING (true);
--> statement-breakpoint
ALTER TABLE audit_seals ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT ON audit_seals TO dialectic_app;
--> statement-breakpoint
GRANT SELECT, INSERT ON audit_seals TO dialectic_maintenance;
--> statement-breakpoint
CREATE POLICY tenant_read ON audit_seals FOR SELECT TO dialectic_app USING (clinic_id = app_clinic_id());
--> statement-breakpoint
CREATE POLICY maintenance ON audit_seals TO dialectic_maintenance USING (true) WITH CHECK (true);
