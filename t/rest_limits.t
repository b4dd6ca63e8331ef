#!/usr/bin/perl

# Every length or count that comes from a request, a service response or
# the configuration, tested exactly at its bound (accepted) and one past it
# (refused with the documented status and reason):
#
#   negotiate      user id, role, group: 4096 bytes; a hub from a variable:
#                  128 characters; a 2048-byte endpoint still works
#   event gateway  each CloudEvents attribute and WebHook-Request-Origin:
#                  4096 bytes; ce-awpsversion: 16 bytes; a ce-signature
#                  line: 4096 bytes and 16 candidates; 16 ce-signature
#                  lines; 16 origins; a hub from a variable: 128
#   REST           values: 4096 bytes, groups 1024 UTF-16 units; ttl 300,
#                  max_page_size 200, top and ttl_minutes 2147483647; a hub
#                  from a variable: 128; 100 parameters; a nextLink of 8192
#                  bytes; 1000 pages; a response of exactly
#                  subrequest_output_buffer_size; client_max_body_size
#   configuration  (nginx -t) hub 128, endpoint 2048 after normalisation,
#                  port 65535, key 4096 bytes and its file 4098, the TTL
#                  365d, 100 webpubsub_rest parameters, literal REST values
#
# The service is t/fixtures/limits_service.js, which checks every call's
# token.  The key everything is signed with is itself at its bound: 4096
# bytes, from a file of 4098 (the key and "\r\n").

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use JSON::PP;
use WebPubSub::Nginx;

my $t = WebPubSub::Nginx->new();

my $svc_port = $t->port(1);
$t->port(2);    # the echo server behind the event handler

# a 4096-byte key, and the file of 4098 bytes it comes from
my $KEY = substr('K0123456789abcdefghijklmnopqrstuvwxyz-_' x 110, 0, 4096);
$t->write_file('k4096.key', "$KEY\r\n");

# hosts and hub names of exact lengths
my $H128 = 'H' . ('h' x 127);
my $H129 = $H128 . 'h';
my $HOST2040 = 'e' x 2040;    # http:// + 2040 + / = 2048

# 100 "excluded" parameters: the most one webpubsub_rest may have
my $EX100 = join(' ', map { "excluded=e$_" } 1 .. 100);

$t->write_conf(<<"EOF");
%%GLOBALS%%

events {
}

http {
    %%GLOBALS_HTTP%%

    # room for request lines and headers well past every bound
    large_client_header_buffers 4 64k;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        webpubsub_endpoint http://127.0.0.1:%%PORT_1%%;
        webpubsub_access_key_file %%TESTDIR%%/k4096.key;
        webpubsub_hub chat;
        webpubsub_rest_pass /_svc/;

        # --- negotiate

        location = /negotiate {
            webpubsub_token_user_id \$webpubsub_arg_user;
            webpubsub_token_roles \$webpubsub_arg_role;
            webpubsub_token_groups \$webpubsub_arg_group;
            webpubsub_token;
        }

        location = /negotiate/hub {
            webpubsub_hub \$webpubsub_arg_hub;
            webpubsub_token;
        }

        location = /negotiate/endpoint2048 {
            webpubsub_endpoint http://$HOST2040;
            webpubsub_access_key other-key;
            webpubsub_token;
        }

        # --- event handler

        location /eh/ {
            webpubsub_event_handler on;
            webpubsub_allowed_origins origin.example;
            proxy_set_header X-Wps "\$webpubsub_event_type|\$webpubsub_event_name|\$webpubsub_connection_id|\$webpubsub_user_id|\$webpubsub_hub";
            proxy_pass http://127.0.0.1:%%PORT_2%%/echo;
        }

        location /ehv/ {
            webpubsub_event_handler on;
            webpubsub_allowed_origins origin.example;
            webpubsub_hub \$arg_h;
            proxy_set_header X-Wps "\$webpubsub_event_type|\$webpubsub_event_name|\$webpubsub_connection_id|\$webpubsub_user_id|\$webpubsub_hub";
            proxy_pass http://127.0.0.1:%%PORT_2%%/echo;
        }

        # --- REST

        location /_svc/ {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
            proxy_connect_timeout 5s;
            proxy_read_timeout 5s;
            subrequest_output_buffer_size 64k;
        }

        location /_small/ {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
            proxy_connect_timeout 5s;
            proxy_read_timeout 5s;
            subrequest_output_buffer_size 4096;
        }

        location = /rest/send_to_user {
            webpubsub_rest send_to_user user=\$webpubsub_arg_v;
        }

        location = /rest/send_to_connection {
            webpubsub_rest send_to_connection connection=\$webpubsub_arg_v;
        }

        location = /rest/send_to_all {
            webpubsub_rest send_to_all filter=\$webpubsub_arg_filter
                excluded=\$webpubsub_arg_excluded ttl=\$webpubsub_arg_ttl;
        }

        location = /rest/send_to_all/100 {
            webpubsub_rest send_to_all $EX100;
        }

        location = /rest/send_to_all/hub {
            webpubsub_hub \$webpubsub_arg_hub;
            webpubsub_rest send_to_all;
        }

        location = /rest/send_to_all/1k {
            client_max_body_size 1k;
            webpubsub_rest send_to_all;
        }

        location = /rest/send_to_group {
            webpubsub_rest send_to_group group=\$webpubsub_arg_v;
        }

        location = /rest/close_connection {
            webpubsub_rest close_connection connection=c1
                reason=\$webpubsub_arg_v;
        }

        location = /rest/grant_permission {
            webpubsub_rest grant_permission connection=c1
                permission=sendToGroup target=\$webpubsub_arg_v;
        }

        location = /rest/generate_client_token {
            webpubsub_rest generate_client_token user=\$webpubsub_arg_user
                role=\$webpubsub_arg_role
                ttl_minutes=\$webpubsub_arg_ttl_minutes;
        }

        location = /rest/generate_client_token/small {
            webpubsub_rest_pass /_small/;
            webpubsub_rest generate_client_token user=\$webpubsub_arg_user;
        }

        location = /rest/list_connections {
            webpubsub_rest list_connections group=\$webpubsub_arg_group
                max_page_size=\$webpubsub_arg_max_page_size
                top=\$webpubsub_arg_top;
        }
    }

    # what the event handler lets through
    server {
        listen 127.0.0.1:%%PORT_2%%;

        location /echo {
            return 200 "\$http_x_wps";
        }
    }
}
EOF

$t->run_daemon(sub {
    exec($ENV{TEST_NODE} // 'node', "$FindBin::Bin/fixtures/limits_service.js",
        $svc_port, $t->testdir . '/k4096.key') or die "exec node: $!";
});
$t->wait_for_port($svc_port, 20);
$t->run();

# negotiate 9, events 26, REST 45, nginx -t 37
$t->plan(9 + 26 + 45 + 37);

my $json = JSON::PP->new->utf8->canonical;

# query argument: every byte but unreserved ones percent-encoded
sub q_esc {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9\-_.~])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

sub unesc {
    my ($s) = @_;
    $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    return $s;
}

# "status reason" of a refusal by the module: {"error":"reason"}
sub outcome {
    my ($r) = @_;
    my $b = eval { $json->decode($r->{content}) };
    my $reason = ref $b eq 'HASH' && defined $b->{error}
        ? $b->{error} : "<body: " . substr($r->{content}, 0, 200) . ">";
    return "$r->{status} $reason";
}

# the JSON body of an answer, or undef
sub body {
    my ($r) = @_;
    return eval { $json->decode($r->{content}) };
}

###############################################################################
# negotiate

sub negotiate {
    my ($path) = @_;
    my $r = $t->get($path);
    my $b = $r->{status} == 200 ? body($r) : undef;
    my $claims = $b && eval { (jwt_decode($b->{token}))[1] };
    return ($r, $b, $claims);
}

for my $c ([ 'user', 'user id', sub { $_[0]{sub} } ],
           [ 'role', 'role', sub { ($_[0]{role} // [])->[0] } ],
           [ 'group', 'group', sub { ($_[0]{'webpubsub.group'} // [])->[0] } ])
{
    my ($arg, $what, $get) = @$c;
    my $v = 'v' x 4096;

    my ($r, $b, $claims) = negotiate("/negotiate?$arg=$v");
    ok($r->{status} == 200 && $claims
        && jwt_verify_hs256($b->{token}, $KEY)
        && ($get->($claims) // '') eq $v,
        "negotiate: a $what of 4096 bytes is in the token")
        or diag(outcome($r));

    ($r) = negotiate("/negotiate?$arg=${v}v");
    is(outcome($r), "400 $what longer than 4096 bytes",
        "negotiate: a $what of 4097 bytes is refused");
}

{
    my ($r, $b, $claims) = negotiate("/negotiate/hub?hub=$H128");
    ok($r->{status} == 200 && $claims
        && $claims->{aud} eq "http://127.0.0.1:$svc_port/client/hubs/$H128"
        && $b->{baseUrl} eq "ws://127.0.0.1:$svc_port/client/hubs/$H128",
        'negotiate: a hub variable of 128 characters')
        or diag(outcome($r));

    ($r) = negotiate("/negotiate/hub?hub=$H129");
    is(outcome($r), '400 invalid hub name: is longer than 128 characters',
        'negotiate: a hub variable of 129 characters is refused');

    ($r, $b, $claims) = negotiate('/negotiate/endpoint2048');
    ok($r->{status} == 200 && $claims
        && jwt_verify_hs256($b->{token}, 'other-key')
        && $claims->{aud} eq "http://$HOST2040/client/hubs/chat"
        && $b->{baseUrl} eq "ws://$HOST2040/client/hubs/chat",
        'negotiate: an endpoint of 2048 bytes makes a valid token and URL')
        or diag(outcome($r));
}

###############################################################################
# event handler

my $ORIGIN = 'origin.example';

sub sig {
    my ($conn, $key) = @_;
    return 'sha256=' . hmac_sha256_hex($key // $KEY, $conn);
}

# a user event, signed for its connection id unless ce-signature is given;
# a header given as undef is left out
sub event {
    my (%o) = @_;
    my $path = delete $o{path} // '/eh/';
    my %h = (
        'ce-specversion' => '1.0',
        'ce-awpsversion' => '1.0',
        'ce-type' => 'azure.webpubsub.user.message',
        'ce-eventName' => 'message',
        'ce-connectionId' => 'conn-1',
        'ce-hub' => 'chat',
        'ce-userId' => 'alice',
        'Content-Type' => 'application/json',
    );
    $h{$_} = $o{$_} for keys %o;
    $h{'ce-signature'} //= sig($h{'ce-connectionId'});
    delete @h{ grep { !defined $h{$_} } keys %h };
    return $t->request('POST', $path, headers => \%h, body => '{}');
}

# what the app behind the gateway sees: type|name|connection|user|hub
sub echo_of {
    my (%o) = @_;
    return '200 ' . join('|',
        $o{type} // 'azure.webpubsub.user.message', $o{name} // 'message',
        $o{conn} // 'conn-1', $o{user} // 'alice', $o{hub} // 'chat');
}

sub passed {
    my ($r) = @_;
    return "$r->{status} $r->{content}";
}

my $too_long = '400 CloudEvents attribute too long';
my $a4096 = 'a' x 4096;
my $type4096 = 'azure.webpubsub.user.' . ('n' x (4096 - 21));

is(passed(event('ce-connectionId' => $a4096)), echo_of(conn => $a4096),
    'event: ce-connectionId of 4096 bytes');
is(outcome(event('ce-connectionId' => "${a4096}a")), $too_long,
    'event: ce-connectionId of 4097 bytes is refused');

is(passed(event('ce-userId' => $a4096)), echo_of(user => $a4096),
    'event: ce-userId of 4096 bytes');
is(outcome(event('ce-userId' => "${a4096}a")), $too_long,
    'event: ce-userId of 4097 bytes is refused');

is(passed(event('ce-eventName' => $a4096)), echo_of(name => $a4096),
    'event: ce-eventName of 4096 bytes');
is(outcome(event('ce-eventName' => "${a4096}a")), $too_long,
    'event: ce-eventName of 4097 bytes is refused');

is(passed(event('ce-type' => $type4096)), echo_of(type => $type4096),
    'event: ce-type of 4096 bytes');
is(outcome(event('ce-type' => "${type4096}n")), $too_long,
    'event: ce-type of 4097 bytes is refused');

# a hub of 4096 passes the length check and fails the next one
is(outcome(event('ce-hub' => $a4096)), '400 ce-hub is not this hub',
    'event: ce-hub of 4096 bytes gets past the length check');
is(outcome(event('ce-hub' => "${a4096}a")), $too_long,
    'event: ce-hub of 4097 bytes is refused as too long');

is(outcome(event('ce-specversion' => $a4096)),
    '400 unsupported ce-specversion',
    'event: ce-specversion of 4096 bytes gets past the length check');
is(outcome(event('ce-specversion' => "${a4096}a")), $too_long,
    'event: ce-specversion of 4097 bytes is refused as too long');

is(passed(event('ce-awpsversion' => '1.' . ('0' x 14))), echo_of(),
    'event: ce-awpsversion of 16 bytes');
is(outcome(event('ce-awpsversion' => '1.' . ('0' x 15))),
    '400 malformed ce-awpsversion',
    'event: ce-awpsversion of 17 bytes is refused');

# WebHook-Request-Origin: 4096 bytes, 16 origins
sub handshake {
    my ($origin) = @_;
    my $r = $t->request('OPTIONS', '/eh/',
        headers => { 'WebHook-Request-Origin' => $origin });
    return $r->{status} == 200
        ? "200 " . ($r->{headers}{'webhook-allowed-origin'} // '<none>')
        : outcome($r);
}

my $o4096 = ('o' x (4096 - length(", $ORIGIN"))) . ", $ORIGIN";
is(handshake($o4096), '200 *',
    'handshake: WebHook-Request-Origin of 4096 bytes, the match last');
is(handshake("o$o4096"), $too_long,
    'handshake: WebHook-Request-Origin of 4097 bytes is refused');

my @others = map { "o$_.example" } 1 .. 16;
is(handshake(join(', ', @others[0 .. 14], $ORIGIN)), '200 *',
    'handshake: 16 origins, the 16th allowed');
is(handshake(join(', ', @others, $ORIGIN)),
    '400 WebHook-Request-Origin not allowed',
    'handshake: 17 origins, the 17th allowed: only 16 are read');

# ce-signature: candidates in a line, lines, bytes of a line
my @wrong = map { sig("conn-1", "wrong-key-$_") } 1 .. 16;

is(passed(event('ce-signature' => join(', ', @wrong[0 .. 14], sig('conn-1')))),
    echo_of(), 'signature: 16 candidates in a line, the 16th valid');
is(outcome(event('ce-signature' => join(', ', @wrong, sig('conn-1')))),
    '401 invalid ce-signature',
    'signature: 17 candidates in a line, the 17th valid: only 16 are read');

is(passed(event('ce-signature' => [ @wrong[0 .. 14], sig('conn-1') ])),
    echo_of(), 'signature: 16 ce-signature lines, the 16th valid');
is(outcome(event('ce-signature' => [ @wrong, sig('conn-1') ])),
    '400 too many ce-signature headers',
    'signature: 17 ce-signature lines are refused');

my $s = sig('conn-1');
is(passed(event('ce-signature' => (',' x (4096 - length $s)) . $s)),
    echo_of(), 'signature: a ce-signature line of 4096 bytes');
is(outcome(event('ce-signature' => (',' x (4097 - length $s)) . $s)),
    '400 ce-signature too long',
    'signature: a ce-signature line of 4097 bytes is refused');

# a hub from a variable
is(passed(event(path => "/ehv/?h=$H128", 'ce-hub' => $H128)),
    echo_of(hub => $H128), 'event: a hub variable of 128 characters');
is(outcome(event(path => "/ehv/?h=$H129", 'ce-hub' => $H129)),
    '400 webpubsub_hub is not a valid hub name',
    'event: a hub variable of 129 characters is refused');

###############################################################################
# REST

sub send_text {
    my ($path, $body) = @_;
    return $t->request('POST', $path,
        headers => { 'Content-Type' => 'text/plain' }, body => $body // 'hi');
}

# the service's echo: its status and the URL the call went to
sub echo_url {
    my ($r, $status) = @_;
    my $b = body($r);
    return undef unless $r->{status} == $status && ref $b eq 'HASH'
        && $b->{auth};
    return $b->{url};
}

my $v4096 = 'v' x 4096;
my $Q = '?api-version=2024-12-01';

# values of at most 4096 bytes, in the path or the query
for my $c (
    [ 'user', '/rest/send_to_user?v=', 202,
      sub { "/api/hubs/chat/users/$_[0]/:send$Q" } ],
    [ 'connection', '/rest/send_to_connection?v=', 202,
      sub { "/api/hubs/chat/connections/$_[0]/:send$Q" } ],
    [ 'filter', '/rest/send_to_all?filter=', 202,
      sub { "/api/hubs/chat/:send$Q&filter=$_[0]" } ],
    [ 'excluded', '/rest/send_to_all?excluded=', 202,
      sub { "/api/hubs/chat/:send$Q&excluded=$_[0]" } ],
    [ 'reason', '/rest/close_connection?v=', 200,
      sub { "/api/hubs/chat/connections/c1$Q&reason=$_[0]" } ],
    [ 'target', '/rest/grant_permission?v=', 200,
      sub { "/api/hubs/chat/permissions/sendToGroup/connections/c1$Q"
            . "&targetName=$_[0]" } ],
    )
{
    my ($param, $path, $status, $url) = @$c;
    my $r = send_text("$path$v4096");
    is(echo_url($r, $status) // outcome($r), $url->($v4096),
        "REST: $param of 4096 bytes is sent");
    is(outcome(send_text("$path${v4096}v")),
        "400 parameter \"$param\" is longer than 4096 bytes",
        "REST: $param of 4097 bytes is refused");
}

{
    my $r = send_text("/rest/generate_client_token?role=$v4096");
    is(outcome($r) =~ /^200 / ? 'ok' : outcome($r), 'ok',
        'REST: role of 4096 bytes is sent');
    is(outcome(send_text("/rest/generate_client_token?role=${v4096}v")),
        '400 parameter "role" is longer than 4096 bytes',
        'REST: role of 4097 bytes is refused');
}

# groups: 1024 UTF-16 code units, whatever their bytes
my $smile = "\xf0\x9f\x98\x80";    # U+1F600: 4 bytes, 2 UTF-16 units
my $euro = "\xe2\x82\xac";         # U+20AC: 3 bytes, 1 unit

for my $c (
    [ 'g' x 1024, 'g' x 1025, '1024 ASCII', '1025 ASCII' ],
    [ ('g' x 1022) . $smile, ('g' x 1023) . $smile,
      '1022 ASCII + U+1F600 (1026 bytes)', '1023 ASCII + U+1F600 (1027 bytes)' ],
    [ $euro x 1024, $euro x 1025, '1024 x U+20AC (3072 bytes)',
      '1025 x U+20AC' ],
    [ $smile x 512, $smile x 513, '512 x U+1F600 (2048 bytes)',
      '513 x U+1F600' ],
    )
{
    my ($ok, $over, $ok_name, $over_name) = @$c;
    my $r = send_text('/rest/send_to_group?v=' . q_esc($ok));
    my $url = echo_url($r, 202) // '';
    my ($sent) = $url =~ m{^/api/hubs/chat/groups/([^/?]+)/:send\?};
    is(defined $sent ? unesc($sent) eq $ok ? 'sent' : "sent as $sent"
        : outcome($r), 'sent', "REST: group of $ok_name: 1024 units, sent");
    is(outcome(send_text('/rest/send_to_group?v=' . q_esc($over))),
        '400 parameter "group" is longer than 1024 characters',
        "REST: group of $over_name: 1025 units, refused");
}

# numbers
is(echo_url(send_text('/rest/send_to_all?ttl=300'), 202),
    "/api/hubs/chat/:send$Q&messageTtlSeconds=300", 'REST: ttl 300 is sent');
is(outcome(send_text('/rest/send_to_all?ttl=301')),
    '400 parameter "ttl" must be a whole number of seconds from 0 to 300',
    'REST: ttl 301 is refused');

{
    my $r = $t->get('/rest/list_connections?group=g&max_page_size=200');
    is(outcome($r) =~ /^200 / ? $r->{content} : outcome($r),
        '{"value":[{"connectionId":"c1"}]}', 'REST: max_page_size 200');
    is(outcome($t->get('/rest/list_connections?group=g&max_page_size=201')),
        '400 parameter "max_page_size" must be a whole number from 1 to 200',
        'REST: max_page_size 201 is refused');

    $r = $t->get('/rest/list_connections?group=g&top=2147483647');
    is(outcome($r) =~ /^200 / ? $r->{content} : outcome($r),
        '{"value":[{"connectionId":"c1"}]}', 'REST: top 2147483647');
    is(outcome($t->get('/rest/list_connections?group=g&top=2147483648')),
        '400 parameter "top" must be a whole number from 1 to 2147483647',
        'REST: top 2147483648 is refused');

    $r = send_text('/rest/generate_client_token?ttl_minutes=2147483647');
    is($r->{status} == 200 ? $r->{content} : outcome($r), '{"token":"t"}',
        'REST: ttl_minutes 2147483647');
    is(outcome(send_text('/rest/generate_client_token?ttl_minutes=2147483648')),
        '400 parameter "ttl_minutes" must be a whole number from 1 to '
        . '2147483647', 'REST: ttl_minutes 2147483648 is refused');
}

# a hub from a variable
is(echo_url(send_text("/rest/send_to_all/hub?hub=$H128"), 202),
    "/api/hubs/$H128/:send$Q", 'REST: a hub variable of 128 characters');
is(outcome(send_text("/rest/send_to_all/hub?hub=$H129")),
    '400 invalid hub name: is longer than 128 characters',
    'REST: a hub variable of 129 characters is refused');

# 100 parameters in one directive: 100 values go out
is(echo_url(send_text('/rest/send_to_all/100'), 202),
    "/api/hubs/chat/:send$Q" . join('', map { "&excluded=e$_" } 1 .. 100),
    'REST: 100 excluded parameters, 100 values sent');

# the message: client_max_body_size, nginx's bound
is(send_text('/rest/send_to_all/1k', 'm' x 1024)->{status}, 202,
    'REST: a message of client_max_body_size (1k) is sent');
is(send_text('/rest/send_to_all/1k', 'm' x 1025)->{status}, 413,
    'REST: a message one byte longer gets 413');

# nextLink: 8192 bytes, relative or absolute
for my $kind ('rel', 'abs') {
    my $kind_name = $kind eq 'rel' ? 'a relative' : 'an absolute';
    my $r = $t->get("/rest/list_connections?group=${kind}8192");
    my $b = $r->{status} == 200 ? body($r) : undef;
    my $items = $b ? $b->{value} : [];
    my $url = @$items == 2 ? $items->[1]{url} // '' : '';
    ok($r->{status} == 200 && @$items == 2
        && $items->[0]{connectionId} eq 'first'
        && $url =~ m{^/api/hubs/chat/groups/${kind}8192/connections\?page=2&pad=p+$}
        && length($url) == ($kind eq 'rel' ? 8192
            : 8192 - length("http://127.0.0.1:$svc_port")),
        "REST: $kind_name nextLink of 8192 bytes is followed as it is")
        or diag(outcome($r));

    is(outcome($t->get("/rest/list_connections?group=${kind}8193")),
        "502 the service's nextLink is not a URL on the endpoint",
        "REST: $kind_name nextLink of 8193 bytes gets 502");
}

# 1000 pages of one connection each
{
    my $r = $t->get('/rest/list_connections?group=pages1000', timeout => 60);
    my $b = $r->{status} == 200 ? body($r) : undef;
    my @ids = $b ? map { $_->{connectionId} } @{ $b->{value} } : ();
    is_deeply(\@ids, [ map { "c$_" } 1 .. 1000 ],
        'REST: 1000 pages, all their connections')
        or diag(outcome($r));

    $r = $t->get('/rest/list_connections?group=pages1001', timeout => 60);
    my $last = body($t->get('/stats?group=pages1001', port => $svc_port));
    is(outcome($r) . ', last page fetched: ' . ($last // {})->{page},
        "502 the service returned more than 1000 pages, last page fetched: 1000",
        'REST: with a 1001st page: 502, and it is not fetched');
}

# a response of exactly subrequest_output_buffer_size (4096 here)
for my $how ('size', 'chunk') {
    my $want = '{"token":"' . ('x' x (4096 - 12)) . '"}';
    my $r = send_text("/rest/generate_client_token/small?user=${how}4096");
    is($r->{status} == 200 ? $r->{content} : outcome($r), $want,
        "REST: a response of 4096 bytes ($how) is forwarded whole");
    is(outcome(send_text("/rest/generate_client_token/small?user=${how}4097")),
        "502 the service's response exceeds subrequest_output_buffer_size",
        "REST: a response of 4097 bytes ($how) gets 502");
}

###############################################################################
# configuration (nginx -t)

$t->write_file('k4097.key', 'k' x 4097);
$t->write_file('k4098.key', 'k' x 4098);
$t->write_file('k4096-3nl.key', ('k' x 4096) . "\n\n\n");
$t->write_file('k4096-sp.key', ('k' x 4096) . (' ' x (65536 - 4097)) . "\n");
$t->write_file('k65537.key', ('k' x 4096) . (' ' x (65537 - 4097)) . "\n");

my $CS_TAIL = 'webpubsub_access_key k; webpubsub_hub chat;';
my $REST = 'webpubsub_endpoint http://h; webpubsub_access_key k;'
    . ' webpubsub_hub chat; webpubsub_rest_pass /_svc/;';
# the internal location webpubsub_rest_pass names, in every server
my $SVC = 'location /_svc/ { internal; proxy_pass http://127.0.0.1:1; }';

# [ name, http-level lines, expected error (regex) or undef ]
my @conf = (
    [ 'hub of 128 characters', "webpubsub_hub $H128;", undef ],
    [ 'hub of 129 characters', "webpubsub_hub $H129;",
      qr/"webpubsub_hub" directive: hub name "Hh+" is longer than 128 characters/ ],

    # endpoints, counted as written after normalisation
    [ 'endpoint http://<2040>: 2048 with the final /',
      'webpubsub_endpoint http://' . ('e' x 2040) . "; $CS_TAIL", undef ],
    [ 'endpoint http://<2041>: 2049',
      'webpubsub_endpoint http://' . ('e' x 2041) . "; $CS_TAIL",
      qr/"webpubsub_endpoint" directive has an endpoint that is too long/ ],
    [ 'endpoint https://<2039>:443: 2048, the default port dropped',
      'webpubsub_endpoint https://' . ('e' x 2039) . ":443; $CS_TAIL", undef ],
    [ 'endpoint https://<2040>:443: 2049',
      'webpubsub_endpoint https://' . ('e' x 2040) . ":443; $CS_TAIL",
      qr/"webpubsub_endpoint" directive has an endpoint that is too long/ ],
    [ 'endpoint http://<2035>:8080: 2048',
      'webpubsub_endpoint http://' . ('e' x 2035) . ":8080; $CS_TAIL", undef ],
    [ 'endpoint http://<2036>:8080: 2049',
      'webpubsub_endpoint http://' . ('e' x 2036) . ":8080; $CS_TAIL",
      qr/"webpubsub_endpoint" directive has an endpoint that is too long/ ],
    [ 'endpoint with a path ending in /: 2048',
      'webpubsub_endpoint http://h/' . ('p' x 2038) . "/; $CS_TAIL", undef ],
    [ 'endpoint with a path ending in /: 2049',
      'webpubsub_endpoint http://h/' . ('p' x 2039) . "/; $CS_TAIL",
      qr/"webpubsub_endpoint" directive has an endpoint that is too long/ ],
    [ 'connection string, Endpoint and Port=8080: 2048',
      'webpubsub_connection_string "Endpoint=http://' . ('e' x 2035)
      . ';Port=8080;AccessKey=k"; webpubsub_hub chat;', undef ],
    [ 'connection string, Endpoint and Port=8080: 2049',
      'webpubsub_connection_string "Endpoint=http://' . ('e' x 2036)
      . ';Port=8080;AccessKey=k"; webpubsub_hub chat;',
      qr/"webpubsub_connection_string" directive has an endpoint that is too long/ ],
    [ 'endpoint port 65535',
      "webpubsub_endpoint http://h:65535; $CS_TAIL", undef ],
    [ 'endpoint port 65536',
      "webpubsub_endpoint http://h:65536; $CS_TAIL",
      qr/"webpubsub_endpoint" directive has an endpoint with a port that is not 1 to 65535/ ],

    # keys
    [ 'key file of 4098 bytes: a 4096-byte key and "\r\n"',
      'webpubsub_endpoint http://h; webpubsub_access_key_file %%TESTDIR%%/k4096.key;',
      undef ],
    [ 'key file of a 4097-byte key',
      'webpubsub_endpoint http://h; webpubsub_access_key_file %%TESTDIR%%/k4097.key;',
      qr/"webpubsub_access_key_file" directive has a key longer than 4096 bytes/ ],
    [ 'key file of a 4098-byte key',
      'webpubsub_endpoint http://h; webpubsub_access_key_file %%TESTDIR%%/k4098.key;',
      qr/"webpubsub_access_key_file" directive has a key longer than 4096 bytes/ ],
    [ 'key file of 4099 bytes (a 4096-byte key and three newlines)',
      'webpubsub_endpoint http://h; webpubsub_access_key_file %%TESTDIR%%/k4096-3nl.key;',
      undef ],
    [ 'key file of 65536 bytes (a 4096-byte key and white space)',
      'webpubsub_endpoint http://h; webpubsub_access_key_file %%TESTDIR%%/k4096-sp.key;',
      undef ],
    [ 'key file of 65537 bytes',
      'webpubsub_endpoint http://h; webpubsub_access_key_file %%TESTDIR%%/k65537.key;',
      qr/"webpubsub_access_key_file" directive: ".*k65537\.key" is not a regular file of at most 65536 bytes/ ],
    [ 'endpoint port 065535: leading zeros are no digits',
      "webpubsub_endpoint http://h:065535; $CS_TAIL", undef ],
    [ 'inline key of 4095 bytes, the longest parameter nginx reads',
      'webpubsub_endpoint http://h; webpubsub_access_key ' . ('k' x 4095) . ';',
      undef ],
    [ 'inline key of 4096 bytes: nginx\'s own "too long parameter"',
      'webpubsub_endpoint http://h; webpubsub_access_key ' . ('k' x 4096) . ';',
      qr/too long parameter "k+\.\.\." started in/ ],

    # token TTL
    [ 'webpubsub_token_ttl 365d', 'webpubsub_token_ttl 365d;', undef ],
    [ 'webpubsub_token_ttl 31536001 (365d + 1s)',
      'webpubsub_token_ttl 31536001;',
      qr/"webpubsub_token_ttl" directive must not be more than 365d/ ],

    # webpubsub_rest: parameters and literal values
    [ 'webpubsub_rest with 100 parameters',
      "$REST server { $SVC location /a { webpubsub_rest send_to_all $EX100; } }",
      undef ],
    [ 'webpubsub_rest with 101 parameters',
      "$REST server { $SVC location /a { webpubsub_rest send_to_all $EX100"
      . ' excluded=e101; } }',
      qr/"webpubsub_rest" directive has more than 100 parameters/ ],
    [ 'literal group of 1024 units (1022 ASCII + U+1F600)',
      "$REST server { $SVC location /a { webpubsub_rest group_exists group="
      . ('g' x 1022) . "$smile; } }", undef ],
    [ 'literal group of 1025 units (1023 ASCII + U+1F600)',
      "$REST server { $SVC location /a { webpubsub_rest group_exists group="
      . ('g' x 1023) . "$smile; } }",
      qr/"webpubsub_rest" directive: parameter "group" is longer than 1024 characters/ ],
    [ 'literal ttl=300',
      "$REST server { $SVC location /a { webpubsub_rest send_to_all ttl=300; } }",
      undef ],
    [ 'literal ttl=301',
      "$REST server { $SVC location /a { webpubsub_rest send_to_all ttl=301; } }",
      qr/"webpubsub_rest" directive: parameter "ttl" must be a whole number of seconds from 0 to 300/ ],
    [ 'literal max_page_size=200',
      "$REST server { $SVC location /a { webpubsub_rest list_connections group=g"
      . ' max_page_size=200; } }', undef ],
    [ 'literal max_page_size=201',
      "$REST server { $SVC location /a { webpubsub_rest list_connections group=g"
      . ' max_page_size=201; } }',
      qr/"webpubsub_rest" directive: parameter "max_page_size" must be a whole number from 1 to 200/ ],
    [ 'literal top=2147483647',
      "$REST server { $SVC location /a { webpubsub_rest list_connections group=g"
      . ' top=2147483647; } }', undef ],
    [ 'literal top=2147483648',
      "$REST server { $SVC location /a { webpubsub_rest list_connections group=g"
      . ' top=2147483648; } }',
      qr/"webpubsub_rest" directive: parameter "top" must be a whole number from 1 to 2147483647/ ],
    [ 'literal user of 4090 bytes, the longest a parameter can hold',
      "$REST server { $SVC location /a { webpubsub_rest send_to_user user="
      . ('u' x 4090) . '; } }', undef ],
    [ 'literal user of 4091 bytes: nginx\'s own "too long parameter"',
      "$REST server { $SVC location /a { webpubsub_rest send_to_user user="
      . ('u' x 4091) . '; } }',
      qr/too long parameter "user=u+\.\.\." started in/ ],
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
        ok($code != 0 && $out =~ $want, "nginx -t: $name: refused")
            or diag("exit $code: " . substr($out, 0, 600));
    } else {
        ok($code == 0 && $out =~ /test is successful/,
            "nginx -t: $name: accepted")
            or diag("exit $code: " . substr($out, 0, 600));
    }
}

$t->done();
