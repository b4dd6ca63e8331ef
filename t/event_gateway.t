#!/usr/bin/perl

# The event handler gateway in front of the official
# @azure/web-pubsub-express WebPubSubEventHandler: genuine events, signed
# here as the service signs them, reach the app and its answers come back
# unchanged; forged or malformed ones never reach it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use JSON::PP;
use Digest::SHA qw(sha256_hex);
use WebPubSub::Nginx;
use WebPubSub::EventApp;

my $PRIMARY = 'primary-key-0123456789';
my $SECONDARY = 'secondary-key-abcdef';
my $ORIGIN = 'contoso.webpubsub.azure.com';

my $t = WebPubSub::Nginx->new();
my $app_port = $t->port(1);

$t->write_conf(<<'EOF');
%%GLOBALS%%

events {
}

http {
    %%GLOBALS_HTTP%%

    webpubsub_connection_string
        "Endpoint=https://Contoso.WebPubSub.Azure.com;AccessKey=primary-key-0123456789;Version=1.0;";
    webpubsub_access_key secondary-key-abcdef;
    webpubsub_hub chat;

    limit_req_zone $webpubsub_connection_id zone=perconn:1m rate=1r/m;

    log_format events '$status $webpubsub_event_type|$webpubsub_event_name|'
                      '$webpubsub_connection_id|$webpubsub_user_id|'
                      '$webpubsub_hub';

    log_format errors '$status "$webpubsub_error"';

    map $webpubsub_event_type $is_user_event {
        ~^azure\.webpubsub\.user\.  yes;
        default                     no;
    }

    upstream app {
        server 127.0.0.1:%%PORT_1%%;
        keepalive 4;
    }

    server {
        listen 127.0.0.1:%%PORT_0%%;

        client_max_body_size 4m;

        location /eventhandler/ {
            webpubsub_event_handler on;
            access_log %%TESTDIR%%/events.log events;
            access_log %%TESTDIR%%/errors.log errors;

            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Event-Type $webpubsub_event_type;
            proxy_set_header X-Event-Name $webpubsub_event_name;
            proxy_set_header X-Connection-Id $webpubsub_connection_id;
            proxy_set_header X-User-Id $webpubsub_user_id;
            proxy_set_header X-Hub $webpubsub_hub;
            proxy_set_header X-Is-User-Event $is_user_event;
            proxy_pass http://app;
        }

        location /limited/ {
            webpubsub_event_handler on;
            limit_req zone=perconn nodelay;
            limit_req_status 429;
            rewrite ^/limited/(.*)$ /eventhandler/$1 break;
            proxy_pass http://app;
        }

        location /origins/ {
            webpubsub_event_handler on;
            webpubsub_allowed_origins replica.example.com Custom.Example.ORG;
            proxy_pass http://app;
        }

        location /anyorigin/ {
            webpubsub_event_handler on;
            webpubsub_allowed_origins *;
            proxy_pass http://app;
        }

        location /varhub/ {
            webpubsub_event_handler on;
            webpubsub_hub $arg_h;
            rewrite ^/varhub/(.*)$ /eventhandler/$1 break;
            proxy_pass http://app;
        }

        # satisfy any + allow must not open the gate
        location /satisfy/ {
            webpubsub_event_handler on;
            satisfy any;
            allow 127.0.0.1;
            deny all;
            rewrite ^/satisfy/(.*)$ /eventhandler/$1 break;
            proxy_pass http://app;
        }
    }

    # the gateway for a whole server
    server {
        listen 127.0.0.1:%%PORT_2%%;

        underscores_in_headers on;
        webpubsub_event_handler on;

        location /down/ {
            proxy_pass http://127.0.0.1:%%PORT_3%%;
            error_page 502 /sorry;
        }

        location = /sorry {
            return 502 "the app is down\n";
        }

        location /other/ {
            webpubsub_connection_string
                "Endpoint=https://other.webpubsub.azure.com;AccessKey=other-key";
            proxy_pass http://app;
        }

        location /eventhandler/ {
            proxy_pass http://app;
        }
    }
}
EOF

my $app = WebPubSub::EventApp->start($t, $app_port, 'chat');
$t->run();

my $json = JSON::PP->new->utf8->canonical;

sub app_log { $app->log() }

sub sig {
    my ($conn, @keys) = @_;
    return join(',', map { 'sha256=' . hmac_sha256_hex($_, $conn) } @keys);
}

# the headers the service sends with an event
sub event_headers {
    my (%o) = @_;
    my $conn = $o{connection} // 'conn-1';
    my $type = $o{type} // 'azure.webpubsub.sys.connected';
    (my $name = $type) =~ s/^azure\.webpubsub\.(sys|user)\.//;
    my %h = (
        'WebHook-Request-Origin' => $ORIGIN,
        'ce-specversion' => '1.0',
        'ce-awpsversion' => '1.0',
        'ce-type' => $type,
        'ce-source' => "/hubs/chat/client/$conn",
        'ce-id' => '1',
        'ce-time' => '2026-11-27T10:00:00Z',
        'ce-signature' => sig($conn, $PRIMARY, $SECONDARY),
        'ce-connectionId' => $conn,
        'ce-hub' => 'chat',
        'ce-eventName' => $name,
        'ce-userId' => 'alice',
        'Content-Type' => 'application/json; charset=utf-8',
    );
    return \%h;
}

sub post_event {
    my ($path, $headers, $body) = @_;
    return $t->request('POST', $path, headers => $headers,
        body => $body // '{}');
}

$t->plan(119);

# --- abuse protection ----------------------------------------------------

my $before = () = app_log();

my $r = $t->request('OPTIONS', '/eventhandler/',
    headers => { 'WebHook-Request-Origin' => $ORIGIN,
                 'ce-awpsversion' => '1.0' });
is($r->{status}, 200, 'handshake: 200 for the endpoint host');
is($r->{headers}{'webhook-allowed-origin'}, '*', 'handshake: allowed origin');

$r = $t->request('OPTIONS', '/eventhandler/',
    headers => { 'WebHook-Request-Origin' => uc $ORIGIN });
is($r->{status}, 200, 'handshake: origin compared ignoring case');

$r = $t->request('OPTIONS', '/eventhandler/',
    headers => { 'WebHook-Request-Origin' => "a.example, $ORIGIN" });
is($r->{status}, 200, 'handshake: a list of origins with a match');

$r = $t->request('OPTIONS', '/eventhandler/');
is($r->{status}, 400, 'handshake: no origin, 400');
ok(!exists $r->{headers}{'webhook-allowed-origin'},
    'handshake: no origin, no allowing header');

$r = $t->request('OPTIONS', '/eventhandler/',
    headers => { 'WebHook-Request-Origin' => 'evil.example' });
is($r->{status}, 400, 'handshake: unmatched origin, 400');
ok(!exists $r->{headers}{'webhook-allowed-origin'},
    'handshake: unmatched origin, no allowing header');

$r = $t->request('OPTIONS', '/eventhandler/',
    headers => { 'WebHook-Request-Origin' => "$ORIGIN.evil.example" });
is($r->{status}, 400, 'handshake: origin with a suffix, 400');

$r = $t->request('OPTIONS', '/origins/',
    headers => { 'WebHook-Request-Origin' => 'x.example custom.example.org' });
is($r->{status}, 200, 'handshake: webpubsub_allowed_origins list');
$r = $t->request('OPTIONS', '/origins/',
    headers => { 'WebHook-Request-Origin' => $ORIGIN });
is($r->{status}, 400, 'handshake: the endpoint is not allowed when a list is set');
$r = $t->request('OPTIONS', '/anyorigin/',
    headers => { 'WebHook-Request-Origin' => 'whatever.example' });
is($r->{status}, 200, 'handshake: * allows any origin');

my @after = app_log();
is(scalar @after, $before, 'handshakes never reach the app');

# --- genuine events ------------------------------------------------------

my $connect_body = $json->encode({
    claims => { sub => ['alice'] }, query => { a => ['1'] },
    headers => {}, subprotocols => [], clientCertificates => [] });

$r = post_event('/eventhandler/',
    event_headers(type => 'azure.webpubsub.sys.connect',
        connection => 'conn-connect'), $connect_body);
is($r->{status}, 200, 'connect: 200 from the app');
my $cr = eval { $json->decode($r->{content}) } // {};
is_deeply($cr, { userId => 'alice', groups => ['g1'], roles => ['r1'] },
    'connect: the app\'s answer comes back unchanged');
like($r->{headers}{'content-type'}, qr{^application/json},
    'connect: the app\'s content type');

my ($seen) = grep { ($_->{event} // '') eq 'connect' } app_log();
is($seen->{connectionId}, 'conn-connect', 'connect: the app saw the event');
is_deeply($seen->{query}, { a => ['1'] }, 'connect: the body reached the app');

$r = post_event('/eventhandler/?reject=1',
    event_headers(type => 'azure.webpubsub.sys.connect',
        connection => 'conn-reject'),
    $json->encode({ query => { reject => ['1'] } }));
is($r->{status}, 401, 'connect rejected by the app: its 401 comes back');
is($r->{content}, 'rejected by the app', 'connect rejected: its body');

for my $type (qw(connected disconnected)) {
    $r = post_event('/eventhandler/',
        event_headers(type => "azure.webpubsub.sys.$type",
            connection => "conn-$type"),
        $type eq 'disconnected' ? '{"reason":"bye"}' : '{}');
    is($r->{status}, 200, "$type: 200");
    # express answers these before its handler runs: look at arrivals
    ok((grep { $_->{arrived}
               && ($_->{headers}{'ce-type'} // '') eq "azure.webpubsub.sys.$type"
               && $_->{headers}{'ce-connectionid'} eq "conn-$type" } app_log()),
        "$type: the app got it");
}

my %bodies = (
    'text/plain' => "hello \x{e9}t\x{e9}",
    'application/json' => '{"a":[1,2,{"b":"c"}]}',
    'application/octet-stream' => join('', map { chr } 0 .. 255),
);

for my $ct (sort keys %bodies) {
    my $h = event_headers(type => 'azure.webpubsub.user.message',
        connection => 'conn-user');
    $h->{'Content-Type'} = $ct;
    my $body = $bodies{$ct};
    utf8::encode($body) if $ct eq 'text/plain';
    $r = post_event('/eventhandler/', $h, $body);
    is($r->{status}, 200, "user event $ct: 200");
    is($r->{content}, $body, "user event $ct: echoed unchanged");
    ok($r->{headers}{'ce-connectionstate'},
        "user event $ct: ce-connectionState comes back");
}

# a 1 MiB binary user event
my $big = join('', map { pack('N', $_ * 2654435761 % 4294967296) }
    0 .. 262143);
is(length $big, 1048576, 'a 1 MiB body');
my $h = event_headers(type => 'azure.webpubsub.user.upload',
    connection => 'conn-big');
$h->{'Content-Type'} = 'application/octet-stream';
$r = post_event('/eventhandler/', $h, $big);
is($r->{status}, 200, '1 MiB: 200');
($seen) = grep { ($_->{name} // '') eq 'upload' } app_log();
is($seen->{sha256}, sha256_hex($big), '1 MiB: the app got the same bytes');
is(sha256_hex($r->{content}), sha256_hex($big), '1 MiB: echoed unchanged');

# --- signature forms the service may use ---------------------------------

my %sig_forms = (
    'primary only' => sig('c-1', $PRIMARY),
    'secondary only' => sig('c-1', $SECONDARY),
    'upper-case hex' => 'sha256=' . uc(hmac_sha256_hex($PRIMARY, 'c-1')),
    'space separated' => 'sha256=' . ('0' x 64) . ' '
        . sig('c-1', $SECONDARY),
    'comma and space' => sig('c-1', 'other-key') . ', '
        . sig('c-1', $PRIMARY),
);

for my $form (sort keys %sig_forms) {
    my $eh = event_headers(connection => 'c-1');
    $eh->{'ce-signature'} = $sig_forms{$form};
    $r = post_event('/eventhandler/', $eh);
    is($r->{status}, 200, "signature $form: accepted");
}

my $eh = event_headers(connection => 'c-1');
$eh->{'ce-signature'} = [ sig('c-1', 'wrong-key'), sig('c-1', $SECONDARY) ];
$r = post_event('/eventhandler/', $eh);
is($r->{status}, 200, 'signature on two header lines: accepted');

$eh = event_headers(connection => 'c-1');
$eh->{'ce-hub'} = 'CHAT';
$r = post_event('/eventhandler/', $eh);
is($r->{status}, 200, 'ce-hub compared ignoring case');

# --- variables -----------------------------------------------------------

$eh = event_headers(type => 'azure.webpubsub.user.chat-message',
    connection => 'conn-vars');
$eh->{'Content-Type'} = 'text/plain';
$eh->{'ce-userId'} = 'bob';
$r = post_event('/eventhandler/', $eh, 'hi');
($seen) = grep { ($_->{headers}{'x-connection-id'} // '') eq 'conn-vars' }
    app_log();
is($seen->{headers}{'x-event-type'}, 'azure.webpubsub.user.chat-message',
    '$webpubsub_event_type in proxy_set_header');
is($seen->{headers}{'x-event-name'}, 'chat-message', '$webpubsub_event_name');
is($seen->{headers}{'x-user-id'}, 'bob', '$webpubsub_user_id');
is($seen->{headers}{'x-hub'}, 'chat', '$webpubsub_hub');
is($seen->{headers}{'x-is-user-event'}, 'yes', 'the variables in a map');
is($seen->{headers}{'ce-signature'}, $eh->{'ce-signature'},
    'the app gets the original headers too');

# limit_req keyed by $webpubsub_connection_id
my $lim = event_headers(connection => 'lim-1');
is(post_event('/limited/', $lim)->{status}, 200, 'limit_req: first event');
is(post_event('/limited/', $lim)->{status}, 429,
    'limit_req: second event of the connection limited');
is(post_event('/limited/', event_headers(connection => 'lim-2'))->{status},
    200, 'limit_req: another connection is not');

$eh = event_headers(connection => 'c-sat');
$eh->{'ce-signature'} = sig('c-sat', 'wrong-key');
is(post_event('/satisfy/', $eh)->{status}, 401,
    'satisfy any with allow does not skip the signature check');

# --- a gateway for a whole server ----------------------------------------

my $p2 = $t->port(2);

$r = $t->request('POST', '/down/', port => $p2, body => '{}',
    headers => event_headers(connection => 'c-down'));
is($r->{status}, 502, 'error_page: the status of the page');
is($r->{content}, "the app is down\n",
    'error_page: the page, not the gateway\'s 405 for its GET');

$r = $t->request('OPTIONS', '/other/', port => $p2,
    headers => { 'WebHook-Request-Origin' => 'other.webpubsub.azure.com' });
is($r->{status}, 200, 'a location\'s own endpoint is its default origin');
$r = $t->request('OPTIONS', '/other/', port => $p2,
    headers => { 'WebHook-Request-Origin' => $ORIGIN });
is($r->{status}, 400, 'and the inherited endpoint\'s origin is not');
$r = $t->request('OPTIONS', '/eventhandler/', port => $p2,
    headers => { 'WebHook-Request-Origin' => $ORIGIN });
is($r->{status}, 200, 'the server\'s endpoint elsewhere');

$eh = event_headers(connection => 'c-under');
$eh->{'ce_hub'} = 'other';
is($t->request('POST', '/eventhandler/', port => $p2, headers => $eh,
    body => '{}')->{status}, 400,
    'ce_hub beside ce-hub counts as a duplicate');

is(post_event('/varhub/?h=chat', event_headers(connection => 'c-vh'))
    ->{status}, 200, 'a hub from a variable');
$r = post_event('/varhub/?h=1bad', event_headers(connection => 'c-vh'));
is($r->{status}, 400, 'a variable hub that is not a hub name: 400');
like($r->{content}, qr/webpubsub_hub is not a valid hub name/,
    'a variable hub that is not a hub name: reason');

# --- forged and malformed requests ---------------------------------------

my $long = 'x' x 4097;
my @forged = (
    [ 'wrong key', 401, ce => { 'ce-signature' => sig('conn-f', 'nope') } ],
    [ 'signature of another connection', 401,
      ce => { 'ce-signature' => sig('other', $PRIMARY) } ],
    [ 'signature over another id, header changed', 401,
      ce => { 'ce-connectionId' => 'conn-g' } ],
    [ 'truncated signature', 401,
      ce => { 'ce-signature' => substr(sig('conn-f', $PRIMARY), 0, 70) } ],
    [ 'signature with one more digit', 401,
      ce => { 'ce-signature' => sig('conn-f', $PRIMARY) . '0' } ],
    [ 'empty signature', 401, ce => { 'ce-signature' => '' } ],
    [ 'signature without prefix', 401,
      ce => { 'ce-signature' => hmac_sha256_hex($PRIMARY, 'conn-f') } ],
    [ 'sha1 prefix', 401,
      ce => { 'ce-signature' => 'sha1=' . hmac_sha256_hex($PRIMARY, 'conn-f') } ],
    [ 'prefix only', 401, ce => { 'ce-signature' => 'sha256=' } ],
    [ 'non-hex signature', 401,
      ce => { 'ce-signature' => 'sha256=' . ('g' x 64) } ],
    [ 'base64 signature', 401,
      ce => { 'ce-signature' => 'sha256=HfqjPD9Lj3Xr4UHVEPqvYY0nwKRrQK1pSBpGRiQi72Q=' } ],
    [ 'missing signature', 401, drop => ['ce-signature'] ],
    [ 'signature of the empty id', 401,
      ce => { 'ce-signature' => sig('', $PRIMARY) } ],
    [ 'huge signature', 400, ce => { 'ce-signature' => $long } ],
    [ 'seventeen signature lines', 400,
      ce => { 'ce-signature' => [ (sig('x', 'k')) x 17 ] } ],
    [ 'missing ce-specversion', 400, drop => ['ce-specversion'] ],
    [ 'ce-specversion 0.3', 400, ce => { 'ce-specversion' => '0.3' } ],
    [ 'missing ce-awpsversion', 400, drop => ['ce-awpsversion'] ],
    [ 'malformed ce-awpsversion', 400, ce => { 'ce-awpsversion' => 'v1' } ],
    [ 'missing ce-type', 400, drop => ['ce-type'] ],
    [ 'unknown system type', 400,
      ce => { 'ce-type' => 'azure.webpubsub.sys.hacked' } ],
    [ 'foreign type', 400, ce => { 'ce-type' => 'com.example.event' } ],
    [ 'user type without a name', 400,
      ce => { 'ce-type' => 'azure.webpubsub.user.' } ],
    [ 'upper-case type', 400,
      ce => { 'ce-type' => 'AZURE.WEBPUBSUB.SYS.CONNECTED' } ],
    [ 'huge type', 400,
      ce => { 'ce-type' => "azure.webpubsub.user.$long" } ],
    [ 'missing ce-connectionId', 400, drop => ['ce-connectionId'] ],
    [ 'empty ce-connectionId', 400, ce => { 'ce-connectionId' => '' } ],
    [ 'huge ce-connectionId', 400, ce => { 'ce-connectionId' => $long } ],
    [ 'missing ce-hub', 400, drop => ['ce-hub'] ],
    [ 'wrong hub', 400, ce => { 'ce-hub' => 'other' } ],
    [ 'hub with a suffix', 400, ce => { 'ce-hub' => 'chat2' } ],
    [ 'hub prefix', 400, ce => { 'ce-hub' => 'cha' } ],
    [ 'huge user id', 400, ce => { 'ce-userId' => $long } ],
    [ 'huge event name', 400, ce => { 'ce-eventName' => $long } ],
    [ 'two ce-connectionId headers', 400,
      ce => { 'ce-connectionId' => [ 'conn-f', 'conn-h' ] } ],
    [ 'two ce-hub headers', 400, ce => { 'ce-hub' => [ 'chat', 'other' ] } ],
    [ 'two ce-type headers', 400,
      ce => { 'ce-type' => [ 'azure.webpubsub.sys.connected',
                             'azure.webpubsub.sys.connect' ] } ],
    [ 'no headers at all', 400, bare => 1 ],
    [ 'GET', 405, method => 'GET' ],
    [ 'PUT', 405, method => 'PUT' ],
    [ 'DELETE', 405, method => 'DELETE' ],
    [ 'HEAD', 405, method => 'HEAD' ],
    [ 'PATCH', 405, method => 'PATCH' ],
);

# the SDK answers a connected event first and records it after: the count
# starts once the record of the last one that got through is there (5 s)
my $until = time() + 5;
until (grep { ($_->{event} // '') eq 'connected'
              && ($_->{connectionId} // '') eq 'c-vh' } app_log()) {
    last if time() > $until;
    select(undef, undef, undef, 0.02);
}
$before = () = app_log();

for my $f (@forged) {
    my ($name, $status, %o) = @$f;
    my $fh = $o{bare} ? {} : event_headers(connection => 'conn-f');
    delete $fh->{$_} for @{ $o{drop} // [] };
    $fh->{$_} = $o{ce}{$_} for keys %{ $o{ce} // {} };
    my $fr = $t->request($o{method} // 'POST', '/eventhandler/',
        headers => $fh, body => '{}');
    is($fr->{status}, $status, "forged: $name: $status");
}

$r = $t->request('PUT', '/eventhandler/', headers => event_headers());
is($r->{headers}{allow}, 'OPTIONS, POST', '405 names the allowed methods');
like($r->{content}, qr/"error":"method not allowed"/, '405 has a reason');

@after = app_log();
is(scalar @after, $before, 'no forged request reached the app');

# --- logs ----------------------------------------------------------------

my $events = $t->read_file('events.log');
like($events, qr/^200 azure\.webpubsub\.user\.chat-message\|chat-message\|conn-vars\|bob\|chat$/m,
    'the variables in log_format');
like($events, qr/^401 -\|-\|-\|-\|-$/m, 'a rejected event logs no attributes');

my $errors = $t->read_file('errors.log');
like($errors, qr/^401 "invalid ce-signature"$/m,
    '$webpubsub_error holds the reason of a refusal');
like($errors, qr/^400 "ce-hub is not this hub"$/m,
    '$webpubsub_error: another reason');
like($errors, qr/^200 "-"$/m, '$webpubsub_error is empty for a genuine event');

my $log = $t->error_log();
like($log, qr/\[warn\].*webhook refused with 401: invalid ce-signature, uri "\/eventhandler\/[^"]*", ce-type "azure\.webpubsub\.[^"]+", ce-hub "[^"]+", origin "[^"]*"/,
    'forged events are logged at warn with the reason and the attributes');
like($log, qr/\[warn\].*webhook refused with 400: ce-hub is not this hub, .*ce-hub "[^"]+"/,
    'the reason names the problem');
like($log, qr/\[info\].*webhook refused with 405: method not allowed/,
    'a GET is a client mistake, logged at info');
unlike($log, qr/\Q$PRIMARY\E|\Q$SECONDARY\E/, 'no key in error.log');

# nginx itself prints request headers at debug level; the module does not
my $good = hmac_sha256_hex($PRIMARY, 'conn-f');
my @ours = grep { !/\[debug\]/ } split /\n/, $log;
ok(!grep({ /$good/ } @ours), 'no signature in error.log above debug level');

$t->done();
