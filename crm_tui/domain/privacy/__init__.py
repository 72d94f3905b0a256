"""Personal-information rights under PIPL (个人信息保护法): customers' rights requests
(access and copy, correction, restriction, deletion), the access-and-copy file, restricted
records and compliance's reasoned look at them, retention per data category and the
anonymisation batches compliance approves, and the bulk-viewing alert over the access log.

The consent ledger lives in `customers.consent` and the access log writer in
`kernel.access_log`, low enough for every area that shows personal data to use."""
