-- Requests per caller (user or service token) per minute, shared by every instance.
CREATE TABLE rate_limit_windows (
    subject TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    request_count INTEGER NOT NULL,
    PRIMARY KEY (subject, window_start)
);
CREATE INDEX rate_limit_windows_start ON rate_limit_windows (window_start);
