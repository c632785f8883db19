-- What the catalog search matches: the item's name, its aliases, its legal
-- basis and its codes, one per line, kept by the store on every write of an
-- item. Searching the guide's JSON text instead matched its keys too (a search
-- for "_" or "1" found every item).
-- Keep sqlite/ in step with this file: same tables, same columns.
ALTER TABLE service_items ADD COLUMN search_text TEXT NOT NULL DEFAULT '';

UPDATE service_items SET search_text =
    trim(name) || chr(10)
    || COALESCE((SELECT string_agg(trim(alias) || chr(10), '') FROM json_array_elements_text(guide::json -> 'aliases') AS alias), '')
    || COALESCE(trim(guide::json ->> 'legal_basis'), '')
    || chr(10) || code || chr(10) || implementing_code;
