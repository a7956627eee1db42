-- four_miss_occurrences, the same rows from a plan that is made once per connection and fits one
-- client as well as five hundred. Driven by the clients asked for, each lateral to the two
-- modalities' lookups, every access is an index probe by clinic and client, so the generic plan is
-- as good as a custom one; the function says to use it (plan_cache_mode). Before, a plan for an
-- array of unknown length guessed ten clients, so the cache chose a custom plan on every call, and
-- planning the query cost more than running it for the one client an attendance write
-- re-evaluates. A client listed twice is read once.
CREATE OR REPLACE FUNCTION four_miss_occurrences(p_clinic uuid, p_clients uuid[], p_trailing boolean, p_since date DEFAULT NULL)
RETURNS TABLE (
  client_id uuid, modality text, id uuid, date text, at_ms double precision, kind text,
  late_minutes integer, left_early_minutes integer, notice_hours integer, group_id uuid
)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
  tz text := (SELECT c.time_zone FROM clinics c WHERE c.id = p_clinic);
  today date := (now() AT TIME ZONE tz)::date;
BEGIN
  RETURN QUERY
  SELECT o.* FROM (SELECT DISTINCT u FROM unnest(p_clients) u) AS c (id) CROSS JOIN LATERAL (
    SELECT s.client_id, 'individual'::text, s.id, ((s.scheduled_start AT TIME ZONE tz)::date)::text,
      (extract(epoch FROM s.scheduled_start) * 1000)::float8, s.attendance, s.late_minutes, NULL::int, s.notice_hours, NULL::uuid
    FROM treatment_episodes e
    LEFT JOIN LATERAL (
      SELECT max(x.scheduled_start) AS at FROM individual_sessions x
      WHERE p_trailing AND x.clinic_id = e.clinic_id AND x.client_id = e.client_id AND x.attendance = 'attended' AND x.scheduled_start <= now()
    ) last ON true
    JOIN individual_sessions s ON s.clinic_id = e.clinic_id AND s.client_id = e.client_id
      AND s.scheduled_start >= greatest(e.contract_start::timestamp AT TIME ZONE tz,
        CASE WHEN last.at IS NULL THEN '-infinity' ELSE least(last.at, p_since::timestamp AT TIME ZONE tz) END)
      AND s.scheduled_start <= now()
    WHERE e.clinic_id = p_clinic AND e.status = 'active' AND e.contract_start IS NOT NULL AND e.client_id = c.id
    UNION ALL
    SELECT en.client_id, 'skills_group'::text, gs.id, gs.date::text, NULL::float8,
      CASE WHEN gs.status = 'cancelled_by_clinic' THEN 'cancelled_by_clinic' ELSE a.status END,
      a.late_minutes, a.left_early_minutes, a.notice_hours, gs.group_id
    FROM treatment_episodes e
    JOIN group_enrollments en ON en.clinic_id = e.clinic_id AND en.client_id = e.client_id
    LEFT JOIN LATERAL (
      SELECT g2.date FROM group_sessions g2
      JOIN group_attendance a2 ON a2.clinic_id = g2.clinic_id AND a2.session_id = g2.id AND a2.client_id = en.client_id AND a2.status = 'present'
      WHERE p_trailing AND g2.clinic_id = en.clinic_id AND g2.group_id = en.group_id AND g2.status = 'scheduled'
        AND g2.date >= en.start_date AND g2.date <= today
      ORDER BY g2.date DESC LIMIT 1
    ) last ON true
    JOIN group_sessions gs ON gs.clinic_id = en.clinic_id AND gs.group_id = en.group_id
      AND gs.date >= greatest(en.start_date, e.contract_start,
        CASE WHEN last.date IS NULL THEN '-infinity' ELSE least(last.date, p_since) END)
      AND gs.date <= least(coalesce(en.end_date, 'infinity'), today)
    LEFT JOIN group_attendance a ON a.clinic_id = gs.clinic_id AND a.session_id = gs.id AND a.client_id = en.client_id
    WHERE e.clinic_id = p_clinic AND e.status = 'active' AND e.contract_start IS NOT NULL AND e.client_id = c.id
  ) o
  ORDER BY 1, 2, 4, 5, 3;
END
$$;
