/* ocsp_http.c — the daemon's side of OCSP (ike.h's ocsp_fetch): one
 * HTTP/1.0 POST of an application/ocsp-request to an http:// responder
 * (RFC 6960 Appendix A.1), bounded in time and size.
 *
 * The engine calls this from within ike_receive, so pvpnd's loop waits
 * while it runs: everything after name resolution (connect, send,
 * receive) shares one deadline (3 s by default), and the answer is
 * capped.  Name resolution uses the system resolver and its own timeouts
 * (resolv.conf); a numeric host skips it.  No redirects, no keep-alive,
 * no TLS: the response is signed, which is what OCSP relies on. */
#include "ctl/ctl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"

#define HDR_MAX 4096

static const struct ctl_ocsp_http defaults = {
	.timeout_ms = CTL_OCSP_TIMEOUT_MS,
	.max_resp = CTL_OCSP_RESP_MAX,
};

static bool host_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '-' || ch == '.' || ch == '_';
}

int ctl_ocsp_parse_url(const char *url, struct ctl_ocsp_url *u, struct pvpn_err *e)
{
	const char *p, *h, *hend;
	size_t hl;

	memset(u, 0, sizeof(*u));
	if (!url || strncasecmp(url, "http://", 7) != 0)
		return err_set(e, -EINVAL, "not an http:// URL");
	if (strlen(url) > CTL_OCSP_URL_MAX)
		return err_set(e, -EINVAL, "the URL is too long");
	p = h = url + 7;
	if (*p == '[') {
		/* RFC 3986 §3.2.2: an IPv6 literal in brackets. */
		h = ++p;
		while (*p && (isxdigit((unsigned char)*p) || *p == ':' || *p == '.'))
			p++;
		if (*p != ']')
			return err_set(e, -EINVAL, "bad IPv6 address in the URL");
		hend = p++;
		u->numeric = true;
	} else {
		while (host_char(*p))
			p++;
		hend = p;
	}
	hl = (size_t)(hend - h);
	if (!hl || hl >= sizeof(u->host))
		return err_set(e, -EINVAL, "the URL has no host (or a bad one)");
	memcpy(u->host, h, hl);
	u->host[hl] = '\0';
	if (h[0] == '.' || h[0] == '-')
		return err_set(e, -EINVAL, "bad host name in the URL");
	if (*p == ':') {
		unsigned long port = 0;
		size_t digits = 0;
		for (p++; isdigit((unsigned char)*p) && digits < 6; p++, digits++)
			port = port * 10 + (unsigned long)(*p - '0');
		if (!digits || digits > 5 || !port || port > 65535)
			return err_set(e, -EINVAL, "bad port in the URL");
		u->port = (uint16_t)port;
	} else {
		u->port = 80;
	}
	if (*p == '\0') {
		strcpy(u->path, "/");
		return 0;
	}
	if (*p != '/')
		return err_set(e, -EINVAL, "bad character after the host in the URL "
			       "(user names and the like are not allowed)");
	if (strlen(p) >= sizeof(u->path))
		return err_set(e, -EINVAL, "the URL's path is too long");
	for (const char *q = p; *q; q++)
		/* Printable ASCII without space; no fragment (it is not sent). */
		if (*q <= 0x20 || *q >= 0x7f || *q == '#')
			return err_set(e, -EINVAL, "bad character in the URL's path");
	strcpy(u->path, p);
	return 0;
}

static int remaining(uint64_t deadline)
{
	uint64_t now = clock_mono_ms();
	return now >= deadline ? 0 : (int)(deadline - now);
}

static int wait_fd(int fd, short ev, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = ev };

	for (;;) {
		int ms = remaining(deadline), r;
		if (!ms)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, ms);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int connect_to(const struct ctl_ocsp_url *u, uint64_t deadline, struct pvpn_err *e)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV | (u->numeric ? AI_NUMERICHOST : 0) };
	struct addrinfo *res = NULL;
	char port[8];
	int fd = -1, g, last = -EHOSTUNREACH;

	snprintf(port, sizeof(port), "%u", (unsigned)u->port);
	if ((g = getaddrinfo(u->host, port, &hints, &res)) != 0)
		return err_set(e, -EHOSTUNREACH, "cannot resolve '%.80s': %s", u->host,
			       gai_strerror(g));
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (!remaining(deadline)) {
			last = -ETIMEDOUT;
			break;
		}
		fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			last = -errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		if (errno != EINPROGRESS) {
			last = -errno;
		} else if ((last = wait_fd(fd, POLLOUT, deadline)) == 0 &&
			   getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0) {
			break;
		} else if (!last) {
			last = soerr ? -soerr : -EIO;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return err_set(e, last, "cannot connect to %.80s port %u: %s", u->host,
			       (unsigned)u->port, last == -ETIMEDOUT ? "timed out" : strerror(-last));
	return fd;
}

static int send_all(int fd, const uint8_t *buf, size_t len, uint64_t deadline)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = wait_fd(fd, POLLOUT, deadline);
			if (rc < 0)
				return rc;
			continue;
		}
		return n < 0 ? -errno : -EIO;
	}
	return 0;
}

/* The value of header name (without the colon) in hdr[0..len), or NULL. */
static const char *header(const char *hdr, size_t len, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);
	const char *p = hdr, *end = hdr + len;

	/* Skip the status line. */
	while (p < end && *p != '\n')
		p++;
	while (p < end) {
		const char *line = ++p, *eol;
		while (p < end && *p != '\n')
			p++;
		eol = p;
		if (eol > line && eol[-1] == '\r')
			eol--;
		if ((size_t)(eol - line) > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0) {
			const char *v = line + nl + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			while (eol > v && (eol[-1] == ' ' || eol[-1] == '\t'))
				eol--;
			*vlen = (size_t)(eol - v);
			return v;
		}
	}
	return NULL;
}

int ctl_ocsp_parse_reply(const uint8_t *buf, size_t len, const uint8_t **body, size_t *body_len,
			 struct pvpn_err *e)
{
	const char *s = (const char *)buf, *v;
	size_t hlen = 0, vl;
	int code = 0;

	for (size_t i = 0; i + 3 < len && i < HDR_MAX; i++)
		if (!memcmp(buf + i, "\r\n\r\n", 4)) {
			hlen = i + 2;   /* keeps the last header's CRLF */
			break;
		}
	if (!hlen)
		return err_set(e, -EBADMSG, "the responder's answer is not HTTP (no header end)");
	/* RFC 1945 §6.1: HTTP/1.x SP 3DIGIT SP reason. */
	if (hlen < 12 || strncmp(s, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)s[7]) ||
	    s[8] != ' ' || !isdigit((unsigned char)s[9]) || !isdigit((unsigned char)s[10]) ||
	    !isdigit((unsigned char)s[11]))
		return err_set(e, -EBADMSG, "the responder's answer is not HTTP");
	code = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	if (code != 200)
		return err_set(e, -EPROTO, "the responder answered HTTP status %d", code);
	/* RFC 6960 Appendix A.1. */
	if (!(v = header(s, hlen, "Content-Type", &vl)) || vl < 25 ||
	    strncasecmp(v, "application/ocsp-response", 25) != 0 ||
	    (vl > 25 && v[25] != ';' && v[25] != ' '))
		return err_set(e, -EBADMSG, "the responder's answer is not an "
			       "application/ocsp-response");
	*body = buf + hlen + 2;
	*body_len = len - hlen - 2;
	if ((v = header(s, hlen, "Content-Length", &vl))) {
		size_t cl = 0;
		if (!vl || vl > 9)
			return err_set(e, -EBADMSG, "bad Content-Length in the responder's answer");
		for (size_t i = 0; i < vl; i++) {
			if (!isdigit((unsigned char)v[i]))
				return err_set(e, -EBADMSG, "bad Content-Length in the responder's "
					       "answer");
			cl = cl * 10 + (size_t)(v[i] - '0');
		}
		if (cl > *body_len)
			return err_set(e, -EBADMSG, "the responder's answer is cut short");
		*body_len = cl;
	}
	if (!*body_len)
		return err_set(e, -EBADMSG, "the responder's answer is empty");
	return 0;
}

/* True when buf holds the header and all the Content-Length says. */
static bool whole(const uint8_t *buf, size_t len)
{
	const uint8_t *body;
	size_t body_len, vl, hlen = 0;

	for (size_t i = 0; i + 3 < len && i < HDR_MAX; i++)
		if (!memcmp(buf + i, "\r\n\r\n", 4)) {
			hlen = i + 2;
			break;
		}
	if (!hlen || !header((const char *)buf, hlen, "Content-Length", &vl))
		return false;
	return ctl_ocsp_parse_reply(buf, len, &body, &body_len, NULL) == 0;
}

int ctl_ocsp_fetch(void *ctx, const char *url, const uint8_t *req, size_t req_len,
		   uint8_t **resp, size_t *resp_len, struct pvpn_err *e)
{
	const struct ctl_ocsp_http *o = ctx ? ctx : &defaults;
	struct ctl_ocsp_url u;
	uint64_t deadline = clock_mono_ms() + (o->timeout_ms ? o->timeout_ms : CTL_OCSP_TIMEOUT_MS);
	size_t cap = HDR_MAX + (o->max_resp ? o->max_resp : CTL_OCSP_RESP_MAX), got = 0;
	uint8_t *buf = NULL, *out = NULL;
	const uint8_t *body;
	size_t body_len;
	char hdr[CTL_OCSP_URL_MAX + 512];
	int fd = -1, rc, n;

	*resp = NULL;
	*resp_len = 0;
	if ((rc = ctl_ocsp_parse_url(url, &u, e)) < 0)
		return rc;
	if (u.numeric || strchr(u.host, ':'))
		n = snprintf(hdr, sizeof(hdr), "POST %s HTTP/1.0\r\nHost: [%s]:%u\r\n", u.path,
			     u.host, (unsigned)u.port);
	else
		n = snprintf(hdr, sizeof(hdr), "POST %s HTTP/1.0\r\nHost: %s:%u\r\n", u.path,
			     u.host, (unsigned)u.port);
	if (n < 0 || (size_t)n >= sizeof(hdr) ||
	    (size_t)n + 128 >= sizeof(hdr))
		return err_set(e, -EINVAL, "the URL is too long");
	n += snprintf(hdr + n, sizeof(hdr) - (size_t)n, "Content-Type: application/ocsp-request\r\n"
		      "Content-Length: %zu\r\nConnection: close\r\n\r\n", req_len);
	if (!(buf = malloc(cap + 1)))
		return err_set(e, -ENOMEM, "out of memory");
	log_msg(LOG_DEBUG, NULL, "OCSP: asking %s", url);
	if ((fd = connect_to(&u, deadline, e)) < 0) {
		rc = fd;
		goto out;
	}
	if ((rc = send_all(fd, (const uint8_t *)hdr, (size_t)n, deadline)) < 0 ||
	    (rc = send_all(fd, req, req_len, deadline)) < 0) {
		rc = err_set(e, rc, "sending to %.80s failed: %s", u.host,
			     rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
		goto out;
	}
	for (;;) {
		ssize_t r = recv(fd, buf + got, cap + 1 - got, 0);
		if (r > 0) {
			got += (size_t)r;
			if (got > cap) {
				rc = err_set(e, -EMSGSIZE, "the responder's answer is bigger than %zu "
					     "bytes", cap);
				goto out;
			}
			if (whole(buf, got))
				break;   /* the server may keep the connection open */
			continue;
		}
		if (r == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if ((rc = wait_fd(fd, POLLIN, deadline)) < 0) {
				rc = err_set(e, rc, "no answer from %.80s within %u ms", u.host,
					     (unsigned)(o->timeout_ms ? o->timeout_ms :
							CTL_OCSP_TIMEOUT_MS));
				goto out;
			}
			continue;
		}
		rc = err_set(e, -errno, "reading from %.80s failed: %s", u.host, strerror(errno));
		goto out;
	}
	if ((rc = ctl_ocsp_parse_reply(buf, got, &body, &body_len, e)) < 0)
		goto out;
	if (!(out = malloc(body_len))) {
		rc = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(out, body, body_len);
	*resp = out;
	*resp_len = body_len;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}
