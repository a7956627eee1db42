-- Break-glass reviews are append-only like the audit tables: refuse TRUNCATE too.
CREATE TRIGGER break_glass_reviews_no_truncate BEFORE TRUNCATE ON break_glass_reviews
  FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();
--> statement-breakpoint
ALTER TABLE break_glass_reviews ENABLE ALWAYS TRIGGER break_glass_reviews_no_truncate;
