DROP TABLE approvals;
DROP TABLE report_settings;
DROP TABLE contractor_names;
DROP TABLE contractors;
