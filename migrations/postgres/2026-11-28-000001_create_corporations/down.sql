DROP TABLE corporations;
