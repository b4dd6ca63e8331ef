#!/usr/bin/perl

# The bounds of the event handler gateway (webpubsub_event_handler), tested
# exactly at each bound (accepted) and one past it (refused with the
# documented status and reason): each CloudEvents attribute and
# WebHook-Request-Origin: 4096 bytes; ce-awpsversion: 16 bytes; a
# ce-signature line: 4096 bytes and 16 candidates; 16 ce-signature lines;
# 16 origins; a hub from a variable: 128 characters.
#
# The key the events are signed with is itself at its bound: 4096 bytes,
# from a file of 4098 (the key and "\r\n").

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use JSON::PP;
use WebPubSub::Nginx;

my $t = WebPubSub::Nginx->new();

$t->port(1);    # the endpoint's port: no service is called
$t->port(2);    # the echo server behind the event handler

# a 4096-byte key, and the file of 4098 bytes it comes from
my $KEY = substr('K0123456789abcdefghijklmnopqrstuvwxyz-_' x 110, 0, 4096);
$t->write_file('k4096.key', "$KEY\r\n");

# hub names of exact lengths
my $H128 = 'H' . ('h' x 127);
my $H129 = $H128 . 'h';

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

$t->run();

$t->plan(26);

my $json = JSON::PP->new->utf8->canonical;

# "status reason" of a refusal by the module: {"error":"reason"}
sub outcome {
    my ($r) = @_;
    my $b = eval { $json->decode($r->{content}) };
    my $reason = ref $b eq 'HASH' && defined $b->{error}
        ? $b->{error} : "<body: " . substr($r->{content}, 0, 200) . ">";
    return "$r->{status} $reason";
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

$t->done();
