#!/usr/bin/perl

# Where a REST call goes.  The signed token must only ever reach the
# internal location webpubsub_rest_pass names, and that location must
# proxy the very path signed: a regex location that catches the URI, a
# redirect to a named location, a "return", another module's handler or a
# proxy_pass with a URI part each get a 500 with a JSON reason and one
# error line naming the fix, and an application behind the wrong location
# (a second recorder) never sees an Authorization header.  nginx -t refuses
# what it can see.  Service faults are logged at error with the service's
# status and x-ms-error-code, client mistakes at info, tokens never.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use JSON::PP;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);
use WebPubSub::Nginx;
use RestRecorder;

my $KEY = 'rest-location-key';

my $t = WebPubSub::Nginx->new();
my $rec = RestRecorder->start($t, port => 1, keys => [$KEY]);
my $app = RestRecorder->start($t, port => 2, keys => [$KEY], name => 'app');
$t->port(3);    # reserved, and nothing listens on it
mkdir $t->testdir . '/empty';

$t->write_conf(<<"EOF");
%%GLOBALS%%

events {
}

http {
    %%GLOBALS_HTTP%%

    log_format wps '\$request_uri \$status error="\$webpubsub_error"';

    webpubsub_endpoint http://127.0.0.1:%%PORT_1%%;
    webpubsub_access_key $KEY;
    webpubsub_hub chat;

    server {
        listen 127.0.0.1:%%PORT_0%%;
        access_log %%TESTDIR%%/wps.log wps;

        location /_wps/ {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location = /ok/send {
            webpubsub_rest_pass /_wps/;
            webpubsub_rest send_to_all;
        }

        location = /trailer/send {
            webpubsub_rest_pass /_wps/;
            webpubsub_rest send_to_all;
            add_trailer X-T t always;
        }

        # trailers only in an "if" block, which has a configuration of its own
        location = /trailer-if/send {
            webpubsub_rest_pass /_wps/;
            webpubsub_rest send_to_all;
            if (\$arg_t) {
                add_trailer X-V v always;
            }
        }

        # trailers inherited from the enclosing location
        location /trailed/ {
            add_trailer X-U u always;

            location = /trailed/send {
                webpubsub_rest_pass /_wps/;
                webpubsub_rest send_to_all;
            }
        }

        location = /ok/list {
            webpubsub_rest_pass /_wps/;
            webpubsub_rest list_connections group=\$webpubsub_arg_group;
        }

        # a regex location is chosen over the prefix location
        location /_rx/ {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location ~ ^/_rx/ {
            proxy_pass http://127.0.0.1:%%PORT_2%%;
        }

        location = /rx/send {
            webpubsub_rest_pass /_rx/;
            webpubsub_rest send_to_all;
        }

        # try_files sends the call on to a named location
        location /_tf/ {
            internal;
            root %%TESTDIR%%/empty;
            try_files \$uri \@app;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location \@app {
            proxy_pass http://127.0.0.1:%%PORT_2%%;
        }

        location = /tf/send {
            webpubsub_rest_pass /_tf/;
            webpubsub_rest send_to_all;
        }

        # a "return" answers before proxy_pass runs
        location /_ret/ {
            internal;
            return 200 "fake";
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location = /ret/send {
            webpubsub_rest_pass /_ret/;
            webpubsub_rest send_to_all;
        }

        # an error page of another location stands in for the answer
        location /_ie/ {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
            proxy_intercept_errors on;
            error_page 500 =200 /fake;
        }

        location = /fake {
            return 200 "{}";
        }

        location = /ie/send {
            webpubsub_rest_pass /_ie/;
            webpubsub_rest send_to_all;
        }

        # another module's content handler
        location /_fcgi/ {
            internal;
            fastcgi_pass 127.0.0.1:%%PORT_3%%;
        }

        location = /fcgi/send {
            webpubsub_rest_pass /_fcgi/;
            webpubsub_rest send_to_all;
        }

        # proxy_pass with a URI part sends a path of its own
        location /_uri/ {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%/;
        }

        location = /uri/send {
            webpubsub_rest_pass /_uri/;
            webpubsub_rest send_to_all;
        }

        location = /uri/exists {
            webpubsub_rest_pass /_uri/;
            webpubsub_rest connection_exists connection=c1;
        }

        # an "if" and a "limit_except" block keep the location's handler
        location = /if/send {
            webpubsub_rest_pass /_wps/;
            webpubsub_rest send_to_all;
            if (\$arg_x) {
                add_header X-If yes always;
            }
        }

        location = /lx/send {
            webpubsub_rest_pass /_wps/;
            webpubsub_rest send_to_all;
            limit_except GET {
                allow all;
            }
        }
    }
}
EOF

$t->run();
# 2 that work, 2 for each of 2 keep-alive cases, 3 for each of 2 blocks
# in a location, 5 for each of 7 refusals and 5 more about them, 1 after,
# 16 on logging, 12 nginx -t cases
$t->plan(2 + 3 * 2 + 4 * 2 + 5 * 7 + 5 + 1 + 16 + 12);

my $json = JSON::PP->new->utf8->canonical;

my $MISROUTED = 'webpubsub_rest_pass does not lead to an internal location '
    . 'that proxies to the service';
my $REWRITTEN = 'the internal location does not send the signed path '
    . '(a proxy_pass with a URI part?)';

# what error.log gained since $mark (a byte offset)
sub log_since {
    my ($mark) = @_;
    return substr($t->error_log(), $mark);
}

# the lines of a level that the module wrote
sub module_lines {
    my ($text, $level) = @_;
    return grep { /\[$level\]/ && /webpubsub: / } split /\n/, $text;
}

sub send_text {
    my ($path) = @_;
    return $t->request('POST', $path, timeout => 10,
        headers => { 'Content-Type' => 'text/plain' }, body => 'hello');
}

sub reason_of {
    my ($r) = @_;
    my $b = eval { $json->decode($r->{content}) };
    return ref $b eq 'HASH' ? $b->{error} // '' : '';
}

# the access log line of the $n-th request to $uri: nginx logs a request
# after its answer has gone, so it is waited for (5 s at most)
sub access_line {
    my ($uri, $n) = @_;
    my $deadline = time() + 5;
    while (1) {
        my @l = grep { /^\Q$uri\E / } split /\n/, $t->read_file('wps.log');
        return $l[$n - 1] if @l >= $n || time() > $deadline;
        select(undef, undef, undef, 0.02);
    }
}

sub app_authorizations {
    return scalar grep { defined $_->{headers}{authorization} }
        $app->entries();
}

# A call that must be refused in its location: 500, its reason, one error
# line that matches $line, nothing with a token at the application.
sub refused {
    my ($name, $path, $reason, $line) = @_;
    my $mark = length $t->error_log();
    my $n = $rec->count;
    my $r = send_text($path);
    is($r->{status}, 500, "$name: 500");
    is(reason_of($r), $reason, "$name: the JSON reason");
    my @err = module_lines(log_since($mark), 'error');
    ok(@err == 1 && $err[0] =~ $line, "$name: one error line naming the fix")
        or diag(join("\n", @err) || log_since($mark));
    is(app_authorizations(), 0, "$name: no token reached the application");
    like(access_line($path, 1) // '', qr/ 500 error="\Q$reason\E"$/,
        "$name: \$webpubsub_error");
    return $n;
}

my $PASS = qr/\(of webpubsub_rest in \S+:\d+\)/;

###############################################################################
# the way that works

my $r = send_text('/ok/send');
is($r->{status}, 202, 'the internal location: 202');
my ($e) = $rec->entries($rec->count - 1);
ok($e->{auth}{ok}, 'the internal location: the service accepts the token');

# Inside "if" and "limit_except" blocks the location's call is made, as
# proxy_pass's is: they keep its content handler (and once crashed the
# worker, their configuration lacking the call).

for my $case (['an "if" block', '/if/send?x=1'],
    ['a "limit_except" block', '/lx/send'])
{
    my ($name, $path) = @$case;
    my $before = $rec->count;
    my $r = send_text($path);
    is($r->{status}, 202, "$name in the location: 202");
    my @sent = $rec->entries($before);
    ok(@sent == 1 && $sent[0]{auth}{ok}
        && ($sent[0]{url} // '') =~ m{^/api/hubs/chat/:send\?},
        "$name in the location: the call, with a token the service accepts")
        or diag(explain(\@sent));
    unlike(log_since(0), qr/exited on signal/,
        "$name in the location: no worker died");
}

# An answer without a body, whole on a keep-alive connection: the second
# call goes once the first answer is in, and comes back whole too.  Such
# an answer goes out as its header alone, except where add_trailer (the
# location's own or one it inherits) makes nginx send it chunked: then it
# must end with its last chunk and the trailer.

# read one answer from $s: (head, body), or () if it does not come whole
sub read_answer {
    my ($s, $buf) = @_;
    my $sel = IO::Select->new($s);
    my $deadline = time() + 10;
    my $more = sub {
        return 0 unless time() < $deadline
            && $sel->can_read($deadline - time());
        return sysread($s, $$buf, 65536, length $$buf);
    };
    while ($$buf !~ /\r\n\r\n/) { $more->() or return () }
    $$buf =~ s/\A(.*?\r\n\r\n)//s;
    my $head = $1;
    if ($head =~ /^Content-Length: (\d+)\r$/mi) {
        my $n = $1;
        while (length $$buf < $n) { $more->() or return () }
        return ($head, substr($$buf, 0, $n, ''));
    }
    return () unless $head =~ /^Transfer-Encoding: chunked\r$/mi;
    while ($$buf !~ /(?:\A|\r\n)0\r\n(?:.*?\r\n)?\r\n/s) {
        $more->() or return ();
    }
    $$buf =~ s/\A(.*?(?:\A|\r\n)0\r\n(?:.*?\r\n)?\r\n)//s;
    return ($head, $1);
}

for my $c ([ 'two calls on one connection', '/ok/send',
             qr/\r\nContent-Length: 0\r\n/, qr/\A\z/ ],
           [ 'two calls on one connection, with add_trailer', '/trailer/send',
             qr/\r\nTransfer-Encoding: chunked\r\n/, qr/\A0\r\nX-T: t\r\n\r\n\z/ ],
           [ 'two calls on one connection, add_trailer inherited',
             '/trailed/send', qr/\r\nTransfer-Encoding: chunked\r\n/,
             qr/\A0\r\nX-U: u\r\n\r\n\z/ ],
           [ 'two calls on one connection, add_trailer in an "if" block',
             '/trailer-if/send?t=1', qr/\r\nTransfer-Encoding: chunked\r\n/,
             qr/\A0\r\nX-V: v\r\n\r\n\z/ ])
{
    my ($name, $path, $framing, $rest) = @$c;
    my $n0 = $rec->count;
    my $req = "POST $path HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        . "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
    my $s = IO::Socket::INET->new(Proto => 'tcp', PeerAddr => '127.0.0.1',
        PeerPort => $t->port(0), Timeout => 5);
    my $buf = '';
    my @got;
    for (1 .. 2) {
        print {$s} $req;
        $s->flush;
        my ($head, $body) = read_answer($s, \$buf);
        push @got, defined $head
            && $head =~ m{\AHTTP/1\.1 202 } && $head =~ $framing
            && $body =~ $rest;
    }
    close $s;
    ok($got[0] && $got[1] && $buf eq '',
        "$name: two whole 202 answers, nothing else")
        or diag(explain(\@got), $buf);
    is($rec->count - $n0, 2, "$name: both sent");
}

###############################################################################
# ways a call can go astray

refused('a regex location catches the URI', '/rx/send', $MISROUTED,
    qr/\[error\].* webpubsub: send_to_all: webpubsub_rest_pass "\/_rx\/" $PASS matched the regex location "\^\/_rx\/": add "location \^~ \/_rx\/ \{ internal; proxy_pass http:\/\/127\.0\.0\.1:\d+; \}" to this server, or make its location \/_rx\/ "\^~"; the token was not sent there/);
is($app->count, 0, 'a regex location catches the URI: the application got nothing');

refused('try_files to a named location', '/tf/send', $MISROUTED,
    qr/\[error\].* webpubsub: send_to_all: webpubsub_rest_pass "\/_tf\/" $PASS matched location "\@app": add "location \/_tf\/ \{ internal; proxy_pass http:\/\/127\.0\.0\.1:\d+; \}" to this server; the token was not sent there/);
is($app->count, 0, 'try_files to a named location: the application got nothing');

my $n = $rec->count;
refused('a return in the internal location', '/ret/send', $MISROUTED,
    qr/\[error\].* webpubsub: send_to_all: location "\/_ret\/" of webpubsub_rest_pass $PASS answered before its proxy_pass ran: remove "return" and "rewrite" from it/);
is($rec->count, $n, 'a return in the internal location: nothing sent');

$rec->control({ mode => 'status', status => 500, body => '{}' });
refused('an error_page in the internal location', '/ie/send', $MISROUTED,
    qr/\[error\].* webpubsub: send_to_all: location "\/_ie\/" of webpubsub_rest_pass $PASS sent the call on to location "\/fake", which answered it: remove the error_page that does it/);
$rec->control({ mode => 'normal' });

refused('fastcgi_pass in the internal location', '/fcgi/send', $MISROUTED,
    qr/\[error\].* webpubsub: send_to_all: location "\/_fcgi\/" of webpubsub_rest_pass $PASS answered without proxy_pass: make "proxy_pass http:\/\/127\.0\.0\.1:\d+;" its only content handler/);

for my $c ([ 'proxy_pass with a URI part', '/uri/send', 'send_to_all',
             'POST', qr{/:send\?api-version=2024-12-01} ],
           [ 'proxy_pass with a URI part, an existence check', '/uri/exists',
             'connection_exists', 'HEAD',
             qr{/connections/c1\?api-version=2024-12-01} ])
{
    my ($name, $path, $op, $method, $signed) = @$c;
    $n = $rec->count;
    refused($name, $path, $REWRITTEN,
        qr/\[error\].* webpubsub: $op: location "\/_uri\/" of webpubsub_rest_pass $PASS sent "$method \/\?api-version=2024-12-01 HTTP\/1\.[01]" instead of "$method \/api\/hubs\/chat.*": remove the URI part of proxy_pass in location "\/_uri\/" \("proxy_pass http:\/\/127\.0\.0\.1:\d+;"\)/);
    my @sent = $rec->entries($n);
    ok(@sent == 1 && $sent[0]{url} !~ $signed,
        "$name: the service got another path than the one signed")
        or diag($json->encode(\@sent));
}

# and the server goes on serving
$r = send_text('/ok/send');
is($r->{status}, 202, 'after the refusals: 202');

###############################################################################
# logging: service faults at error, client mistakes at info, no token

my $mark = length $t->error_log();

$rec->control({ mode => 'status', status => 401,
    body => '{"code":"Unauthorized"}',
    headers => { 'Content-Type' => 'application/json',
                 'x-ms-error-code' => 'Error.Unauthorized' } });
$r = send_text('/ok/send');
is($r->{status}, 401, 'the service refuses the key: its 401');
my @err = module_lines(log_since($mark), 'error');
ok(@err == 1 && $err[0] =~ /webpubsub: send_to_all: the service answered 401 \(x-ms-error-code: Error\.Unauthorized\)/,
    'the service refuses the key: one error line with status and code')
    or diag(join "\n", @err);

$mark = length $t->error_log();
$rec->control({ mode => 'status', status => 429, body => '{}',
    headers => { 'Retry-After' => '3',
                 'x-ms-error-code' => 'Error.TooManyRequests' } });
$r = send_text('/ok/send');
is($r->{status}, 429, 'throttled: 429');
@err = module_lines(log_since($mark), 'error');
ok(@err == 1 && $err[0] =~ /webpubsub: send_to_all: the service answered 429 \(x-ms-error-code: Error\.TooManyRequests\)/,
    'throttled: one error line')
    or diag(join "\n", @err);

$mark = length $t->error_log();
$rec->control({ mode => 'status', status => 503, body => '' });
$r = send_text('/ok/send');
is($r->{status}, 503, 'unavailable: 503');
@err = module_lines(log_since($mark), 'error');
ok(@err == 1 && $err[0] =~ /webpubsub: send_to_all: the service answered 503 \(x-ms-error-code: none\)/,
    'unavailable: one error line, no code')
    or diag(join "\n", @err);

$mark = length $t->error_log();
$rec->control({ mode => 'status', status => 400, body => '{}',
    headers => { 'x-ms-error-code' => 'Error.InvalidFilter' } });
$r = send_text('/ok/send');
is($r->{status}, 400, 'the service finds the call wrong: 400');
my $since = log_since($mark);
ok(!module_lines($since, 'error')
    && grep({ /the service answered 400 \(x-ms-error-code: Error\.InvalidFilter\)/ }
            module_lines($since, 'info')),
    'the service finds the call wrong: info, not error')
    or diag($since);

$mark = length $t->error_log();
$rec->control({ mode => 'garbage' });
$r = $t->get('/ok/list?group=g1');
is($r->{status}, 502, 'garbage: 502');
@err = module_lines(log_since($mark), 'error');
ok(grep({ /webpubsub: list_connections: no valid HTTP response from the service/ } @err),
    'garbage: an error line with the operation')
    or diag(join "\n", @err);

$mark = length $t->error_log();
$rec->control({ mode => 'big', bytes => 200000 });
$r = $t->get('/ok/list?group=g1');
is($r->{status}, 502, 'oversized page: 502');
@err = module_lines(log_since($mark), 'error');
ok(@err == 1 && $err[0] =~ /webpubsub: list_connections: the service's response exceeds subrequest_output_buffer_size/,
    'oversized page: one error line')
    or diag(join "\n", @err);

$rec->control({ mode => 'normal' });

$mark = length $t->error_log();
$r = $t->get('/ok/send');
is($r->{status}, 405, 'a client mistake: 405');
$since = log_since($mark);
ok(!module_lines($since, 'error') && !module_lines($since, 'warn')
    && grep({ /webpubsub: send_to_all refused: method GET not allowed/ }
            module_lines($since, 'info')),
    'a client mistake: info only')
    or diag($since);

$r = $t->get('/ok/list?group=');
is($r->{status}, 400, 'a missing parameter: 400');

# tokens appear nowhere but in nginx's own debug lines
# (a debug line may go on over several lines, which have no date)
my ($debug, @leaks) = (0);
for (split /\n/, $t->error_log()) {
    $debug = /\[debug\]/ if m{^\d{4}/\d\d/\d\d };
    push @leaks, $_ if !$debug && /Bearer|eyJ[A-Za-z0-9_-]{10}/;
}
ok(!@leaks, 'no token in the error log') or diag(join "\n", @leaks);

###############################################################################
# nginx -t

my $G = "webpubsub_endpoint http://127.0.0.1:9; webpubsub_access_key k;"
    . " webpubsub_hub chat;";
my $IN = 'location /_webpubsub/ { internal; proxy_pass http://127.0.0.1:9; }';

my @conf = (
    [ 'a server without the internal location, with location /',
      "$G webpubsub_rest_pass /_webpubsub/;"
      . ' server { location / { proxy_pass http://127.0.0.1:8; }'
      . ' location = /send { webpubsub_rest send_to_all; } }',
      qr/\[emerg\] "webpubsub_rest" directive in \S+:\d+: its server has no location "\/_webpubsub\/" of webpubsub_rest_pass: add "location \/_webpubsub\/ \{ internal; proxy_pass http:\/\/127\.0\.0\.1:9; \}" to it$/m ],
    [ 'the internal location in another server only',
      "$G webpubsub_rest_pass /_webpubsub/;"
      . " server { listen 127.0.0.1:%%PORT_3%%; $IN }"
      . ' server { listen 127.0.0.1:%%PORT_3%%; server_name b;'
      . ' location = /send { webpubsub_rest send_to_all; } }',
      qr/\[emerg\] "webpubsub_rest" directive in \S+:\d+: its server has no location "\/_webpubsub\/"/ ],
    [ 'a location that is not internal',
      "$G webpubsub_rest_pass /_webpubsub/;"
      . ' server { location /_webpubsub/ { proxy_pass http://127.0.0.1:9; }'
      . ' location = /send { webpubsub_rest send_to_all; } }',
      qr/\[emerg\] "webpubsub_rest" directive in \S+:\d+: location "\/_webpubsub\/" of webpubsub_rest_pass is not internal: add "internal;" to it$/m ],
    [ 'a location without proxy_pass',
      "$G webpubsub_rest_pass /_webpubsub/;"
      . ' server { location /_webpubsub/ { internal; }'
      . ' location = /send { webpubsub_rest send_to_all; } }',
      qr/\[emerg\] "webpubsub_rest" directive in \S+:\d+: location "\/_webpubsub\/" of webpubsub_rest_pass has no proxy_pass: add "proxy_pass http:\/\/127\.0\.0\.1:9;" to it$/m ],
    [ 'webpubsub_rest_pass naming the REST location itself',
      "$G server { location /send { internal; webpubsub_rest_pass /send;"
      . ' webpubsub_rest send_to_all; } }',
      qr/\[emerg\] "webpubsub_rest" directive in \S+:\d+: webpubsub_rest_pass "\/send" names this webpubsub_rest location itself, not an internal location that proxies to the service$/m ],
    [ 'webpubsub_rest_pass naming another REST location',
      "$G webpubsub_rest_pass /other;"
      . ' server { location = /other { internal; webpubsub_rest health; }'
      . ' location = /send { webpubsub_rest send_to_all; } }',
      qr/\[emerg\] "webpubsub_rest" directive in \S+:\d+: webpubsub_rest_pass "\/other" names another webpubsub_rest location, not an internal location that proxies to the service$/m ],
    [ 'webpubsub_rest, then proxy_pass',
      "$G webpubsub_rest_pass /_webpubsub/;"
      . " server { $IN location = /send { webpubsub_rest send_to_all;"
      . ' proxy_pass http://127.0.0.1:8; } }',
      qr/\[emerg\] "webpubsub_rest" directive in \S+:\d+ shares its location with another content handler \(proxy_pass, webpubsub_token, webpubsub_rest, \.\.\.\): keep one of them$/m ],
    [ 'proxy_pass, then webpubsub_rest',
      "$G webpubsub_rest_pass /_webpubsub/;"
      . " server { $IN location = /send { proxy_pass http://127.0.0.1:8;"
      . ' webpubsub_rest send_to_all; } }',
      qr/\[emerg\] "webpubsub_rest" directive is duplicate: the location already has a content handler \(proxy_pass, webpubsub_token, \.\.\.\); a webpubsub_rest location must have no other in \S+:\d+$/m ],
    [ 'webpubsub_token, then webpubsub_rest',
      "$G webpubsub_rest_pass /_webpubsub/;"
      . " server { $IN location = /send { webpubsub_token;"
      . ' webpubsub_rest send_to_all; } }',
      qr/\[emerg\] "webpubsub_rest" directive is duplicate: the location already has a content handler/ ],
    [ 'the internal location nested in location /',
      "$G webpubsub_rest_pass /_webpubsub/;"
      . " server { location / { $IN }"
      . ' location = /send { webpubsub_rest send_to_all; } }', undef ],
    [ 'an exact internal location, and a server without REST',
      "$G webpubsub_rest_pass /_webpubsub/;"
      . ' server { listen 127.0.0.1:%%PORT_3%%; location = /_webpubsub/'
      . ' { internal; proxy_pass http://127.0.0.1:9; }'
      . ' location = /send { webpubsub_rest send_to_all; } }'
      . ' server { listen 127.0.0.1:%%PORT_3%%; server_name b;'
      . ' location / { proxy_pass http://127.0.0.1:8; } }', undef ],
    [ 'a REST location in a named location',
      "$G webpubsub_rest_pass /_webpubsub/;"
      . ' server { location / { try_files $uri @rest; }'
      . ' location @rest { webpubsub_rest send_to_all; } }',
      qr/\[emerg\] "webpubsub_rest" directive in \S+:\d+: its server has no location "\/_webpubsub\/"/ ],
);

for my $c (@conf) {
    my ($name, $http, $want) = @$c;
    my ($code, $out) = $t->nginx_t(<<"EOF");
%%GLOBALS%%
events { }
http {
    %%GLOBALS_HTTP%%
    $http
}
EOF
    if (defined $want) {
        my @emerg = grep { /\[emerg\]/ } split /\n/, $out;
        ok($code != 0 && $out =~ $want && @emerg == 1,
            "nginx -t: $name: refused, one line")
            or diag("exit $code: " . substr($out, 0, 800));
    } else {
        ok($code == 0 && $out =~ /test is successful/,
            "nginx -t: $name: accepted")
            or diag("exit $code: " . substr($out, 0, 800));
    }
}

$t->done();
