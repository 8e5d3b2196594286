-- modebridge schema, step 5: live streams deliver in seq order against a published watermark.
--
-- Every ingest instance, after Redis took a batch and the batch is marked published, announces on
-- Redis the highest seq below which every event has been published (see api.md, "Order and resume").
-- The relay therefore may no longer mark events published before Redis took them: it claims them
-- first (claimed_at), so another instance's watermark still counts them as unpublished, then marks
-- them once published. A claim older than 30 seconds (an instance that stopped half-way) lapses.
ALTER TABLE events ADD COLUMN claimed_at timestamptz;
