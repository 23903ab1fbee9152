-- Queue schema version 4: the CRC-32 of each chunk's stored payload, written with the row. A
-- chunk sent as stored is checked against it when leased, which costs a tenth of decoding the
-- frame for its content checksum. NULL for rows written before: those are decoded as before.
ALTER TABLE chunks ADD COLUMN payload_crc INTEGER;
