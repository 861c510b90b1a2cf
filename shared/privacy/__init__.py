"""Data protection (RGPD, ENT regulatory act, CNIL): retention periods, the record of processing, the access export."""
