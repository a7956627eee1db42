-- Two lookups every request makes, as functions, so each connection plans their queries once
-- (PL/pgSQL keeps a statement's plan for the session); the statements that call them stay trivial
-- to plan. Under row-level security every table a statement names brings its policy into planning,
-- and the clinic's time zone alone was named up to four times in one query (one subquery per use
-- of the clinic's date). Both run as the caller (SECURITY INVOKER), so the policies still decide
-- what they see.

-- The clinic's time zone (NULL for a clinic not visible). Callers wrap it in a scalar subquery,
-- `(select clinic_time_zone($1))`, so it is evaluated once per statement, not once per row.
CREATE FUNCTION clinic_time_zone(p_clinic uuid) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
  RETURN (SELECT c.time_zone FROM clinics c WHERE c.id = p_clinic);
END
$$;
--> statement-breakpoint
-- The caller a token names, with the clinic's name: the token check's first statement, sent with
-- the request's BEGIN (src/plugins/auth.ts). Timestamps as JSON text, like the rest of that raw row.
CREATE FUNCTION request_actor(p_clinic uuid, p_staff uuid)
RETURNS TABLE (
  id uuid, "clinicId" uuid, roles text[], email text, "displayName" text, active boolean,
  "tokensValidAfter" json, version integer, "createdAt" json, "updatedAt" json, "clinicName" text
)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY
  SELECT s.id, s.clinic_id, s.roles::text[], s.email, s.display_name, s.active, to_json(s.tokens_valid_after), s.version,
         to_json(s.created_at), to_json(s.updated_at), c.name
    FROM staff s JOIN clinics c ON c.id = s.clinic_id
   WHERE s.clinic_id = p_clinic AND s.id = p_staff;
END
$$;
