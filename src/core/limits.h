/*
 * limits.h - every bound on outside input, in one place (SQLite sqliteLimit.h).
 *
 * Check the limit before allocating. Protocol limits that come with later
 * layers (SMTP, HTTP, LMTP) are added here, not in the module that uses them.
 */
#ifndef LK_CORE_LIMITS_H
#define LK_CORE_LIMITS_H

/* Addresses: RFC 5321 section 4.5.3.1 */
#define LK_MAX_LOCAL_PART 64
#define LK_MAX_DOMAIN 255
#define LK_MAX_ADDRESS 254  /* forward-path without the angle brackets */
#define LK_MAX_MAILBOX 1024 /* "Display Name" <addr> as written by a person */
#define LK_MAX_NAME 256	    /* a subscriber's display name, in bytes of UTF-8 */
#define LK_MAX_COUNTRY 64

/* CSV import */
#define LK_MAX_CSV_FIELD 4096	/* one cell */
#define LK_MAX_CSV_RECORD 16384 /* one row, all cells and separators */
#define LK_MAX_CSV_FIELDS 64	/* cells per row */

/* Lists */
/* 23: LIST-unsubscribe+TOKEN, our longest local part, is then at most
 * 23 + 13 + 28 = 64 octets (RFC 5321 4.5.3.1.1; crypto/token.h's address
 * form, checked there at compile time). */
#define LK_MAX_LIST_NAME 23
#define LK_MAX_LIST_TITLE 256
#define LK_MAX_LIST_TEXT 8192 /* description, footer, postal address */

/* Owner addresses of one list (lists.owners) */
#define LK_MAX_LIST_OWNERS 16
#define LK_MAX_REASON 1000 /* the owners' reason for refusing a subscription request */

/* Tokens and secrets */
#define LK_MAX_TOKEN 128 /* the text of a token, either form */
#define LK_MAX_PASSWORD 1024
#define LK_MIN_PASSWORD 10	    /* an admin account's password, at least (bytes) */
#define LK_MAX_KEY_FILE 4096	    /* the key file, read whole */
#define LK_MAX_TLS_FILE (64u << 10) /* [http] tls_cert or tls_key (PEM), read whole */

/* Configuration */
#define LK_MAX_CONF_VALUE 4096
#define LK_MAX_PATH 4096

/* HTTP (web role) */
#define LK_HTTP_THREADS 4	       /* worker threads, each with its own store connection */
#define LK_HTTP_MAX_CONNECTIONS 256    /* open connections, over all workers */
#define LK_HTTP_TIMEOUT_SECONDS 30     /* idle connection timeout */
#define LK_HTTP_CONN_MEMORY (32 << 10) /* per connection: request line and headers must fit */
#define LK_HTTP_BACKLOG 128
#define LK_WEB_SCRUB_MS 250    /* at most this long between an erasure and its WAL scrub */
#define LK_WEB_WRITER_BATCH 64 /* write jobs of web workers committed together (web/writer.h) */
#define LK_HTTP_MAX_BODY (64u << 10)   /* a POST body, whole; bigger is a 413 */
#define LK_HTTP_MAX_DISCARD (1u << 20) /* a chunked body past the bound, read for its 413 */
#define LK_HTTP_REAP_MS 250	       /* how often [http] request_timeout is checked */
#define LK_HTTP_RETRY_AFTER "60"       /* seconds, in every 503 (store busy or unavailable) */
#define LK_HTTP_MAX_FIELDS 32	       /* form fields in one body */
#define LK_HTTP_MAX_FIELD_NAME 128     /* one field's name, decoded */
#define LK_HTTP_MAX_FIELD_VALUE 8192   /* one field's value, decoded */
#define LK_HTTP_MAX_PART_HEADERS 1024  /* the headers of one multipart part */
#define LK_HTTP_MAX_FORWARDED 2048     /* X-Forwarded-For, all lines joined; the rest ignored */
#define LK_HTTP_MAX_HOPS 32	       /* X-Forwarded-For hops walked from the right */
#define LK_HTTP_MAX_USER_AGENT 512     /* User-Agent bytes read for the browser family */
#define LK_MAX_CIDRS 64		       /* blocks in one address list ([http] trusted_proxies) */

/* SMTP and messages */
#define LK_MAX_SMTP_LINE 1000	    /* RFC 5321 4.5.3.1.5, with CRLF */
#define LK_MAX_SMTP_REPLY_LINES 100 /* lines in one multi-line reply */
#define LK_MAX_MESSAGE (25u << 20)  /* one composed or received message */
#define LK_MAX_LINE_OCTETS 998	    /* RFC 5322 2.1.1 */

/* Intake: bounces, complaints and email commands */
#define LK_MAX_MIME_DEPTH 16		 /* nested multiparts walked in received mail */
#define LK_MAX_MIME_PARTS 256		 /* parts looked at in one received message */
#define LK_MAX_BOUNCE_RCPTS 32		 /* recipients kept from one bounce */
#define LK_MAX_BOUNCE_TEXT (64u << 10)	 /* decoded text read by the bounce heuristics */
#define LK_MAX_BOUNCE_FIELD 1024	 /* one unfolded DSN or ARF field */
#define LK_MAX_COMMANDS 25		 /* command lines read from one message */
#define LK_MAX_COMMAND_TEXT (256u << 10) /* decoded body read for commands */

/* the archive (lists/archive.h, intake/archmsg.c, web/archive*.c) */
#define LK_ARCHIVE_MAX_SUBJECT 1024	/* decoded subject kept, bytes */
#define LK_ARCHIVE_MAX_PARENTS 16	/* In-Reply-To and References ids tried */
#define LK_ARCHIVE_MAX_TEXT (1u << 20)	/* decoded text kept for the page and search */
#define LK_ARCHIVE_MAX_ATTS 32		/* attachments kept from one post */
#define LK_ARCHIVE_MAX_QUERY 512	/* a search query, bytes */
#define LK_ARCHIVE_PAGE 50		/* posts or results on one page */
#define LK_ARCHIVE_MAX_MBOX (64u << 20) /* a month's mbox download from the web */

/* Content filters (intake/filter_*.c): the daemons' answers */
#define LK_FILTER_MAX_CLAMD_REPLY 1024	      /* clamd's one-line verdict */
#define LK_FILTER_MAX_VIRUS_NAME 128	      /* a signature name kept from it */
#define LK_FILTER_MAX_SPAMD_REPLY (64u << 10) /* spamd's answer, headers and symbols */
#define LK_FILTER_MAX_SPAMD_LINE 512	      /* one status or header line of it */
#define LK_FILTER_MAX_SPAMD_HEADERS 16	      /* header lines in it */
#define LK_FILTER_MAX_SPAM_SYMBOLS 64	      /* rule names kept from SYMBOLS */
#define LK_FILTER_MAX_SPAM_SYMBOL 64	      /* one rule name */

/* LMTP (intake role) */
#define LK_LMTP_MAX_CONNECTIONS 16  /* sessions at once, a thread and a store each */
#define LK_LMTP_MAX_RCPTS 100	    /* recipients in one transaction */
#define LK_LMTP_MAX_ERRORS 10	    /* bad commands before the session is closed */
#define LK_LMTP_TIMEOUT_SECONDS 300 /* idle client, RFC 5321 4.5.3.2.7 */
#define LK_LMTP_BACKLOG 64

/* Templates (core/tmpl.c): an admin's folder is outside input */
#define LK_MAX_TEMPLATE (256u << 10) /* one template's source */
#define LK_TMPL_MAX_NAME 64	     /* a tag or template name */
#define LK_TMPL_MAX_NESTING 32	     /* sections open at once in one template */
#define LK_TMPL_MAX_INCLUDES 8	     /* includes within includes */
#define LK_TMPL_MAX_STEPS (1u << 22) /* nodes visited in one rendering */
#define LK_TMPL_MAX_FILES 128	     /* templates read from one folder */
#define LK_MAX_LOGO (256u << 10)     /* the image of [web] logo */
#define LK_MAX_CONSENT 2048	     /* consent.txt, tracking.txt: recorded in the ledger */

/* Logging: one line */
#define LK_MAX_LOG_LINE 2048

/* Consent ledger: the encrypted details of one event */
#define LK_MAX_LEDGER_DETAILS 8192
/* A person's JSON export */
#define LK_MAX_EXPORT (16u << 20)

#endif
