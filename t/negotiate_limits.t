#!/usr/bin/perl

# The bounds of negotiate (webpubsub_token), tested exactly at each bound
# (accepted) and one past it (refused with the documented status and
# reason):
#
#   requests       user id, role, group: 4096 bytes; a hub from a variable:
#                  128 characters; a 2048-byte endpoint still works
#   configuration  (nginx -t) webpubsub_token_ttl 365d
#
# The key the tokens are signed with is itself at its bound: 4096 bytes,
# from a file of 4098 (the key and "\r\n").  The other bounds of the
# service configuration are in service_limits.t.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use JSON::PP;
use WebPubSub::Nginx;

my $t = WebPubSub::Nginx->new();

# the endpoint's port: no service is called, it is only in the token
my $svc_port = $t->port(1);

# a 4096-byte key, and the file of 4098 bytes it comes from
my $KEY = substr('K0123456789abcdefghijklmnopqrstuvwxyz-_' x 110, 0, 4096);
$t->write_file('k4096.key', "$KEY\r\n");

# hosts and hub names of exact lengths
my $H128 = 'H' . ('h' x 127);
my $H129 = $H128 . 'h';
my $HOST2040 = 'e' x 2040;    # http:// + 2040 + / = 2048

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
    }
}
EOF

$t->run();

# requests 9, nginx -t 2
$t->plan(9 + 2);

my $json = JSON::PP->new->utf8->canonical;

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
# requests

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
# configuration (nginx -t)

# [ name, http-level lines, expected error (regex) or undef ]
my @conf = (
    [ 'webpubsub_token_ttl 365d', 'webpubsub_token_ttl 365d;', undef ],
    [ 'webpubsub_token_ttl 31536001 (365d + 1s)',
      'webpubsub_token_ttl 31536001;',
      qr/"webpubsub_token_ttl" directive must not be more than 365d/ ],
);

$t->nginx_t_limit(@$_) for @conf;

$t->done();
