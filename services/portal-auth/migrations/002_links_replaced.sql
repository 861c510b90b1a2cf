-- A newer link of the same purpose replaces the account's earlier ones (an address corrected in between).
ALTER TABLE links ADD COLUMN replaced_at timestamptz;
