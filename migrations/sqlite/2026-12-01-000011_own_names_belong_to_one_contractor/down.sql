DROP TABLE contractor_own_names;
