#!/usr/bin/perl

# Interop: for each combination of connection string, hub, user, roles,
# groups, lifetime and protocol, nginx's negotiate response must equal what
# the official @azure/web-pubsub SDK's getClientAccessToken() returns for
# the same inputs (run with its clock pinned to nginx's iat, so the tokens
# must be byte-identical), and jsonwebtoken must accept nginx's token for
# the key and the SDK's audience.  The oracle is t/oracle/negotiate.js.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use JSON::PP;
use Encode qw(encode_utf8);
use WebPubSub::Nginx;

my @cases = (
    { cs => 'Endpoint=http://localhost;Port=8080;AccessKey=abc;Version=1.0;',
      hub => 'chat', user => 'user1',
      roles => ['webpubsub.joinLeaveGroup.room1'], groups => ['room1'] },
    { cs => 'Endpoint=https://contoso.webpubsub.azure.com;AccessKey=k1;Version=1.0;',
      hub => 'chat' },
    { cs => 'Endpoint=https://contoso.webpubsub.azure.com/base;AccessKey=k2;Version=1.0;',
      hub => 'MixedCase_Hub', user => 'bob' },
    { cs => 'Endpoint=x.webpubsub.azure.com;AccessKey=k3;Version=1.0;',
      hub => 'noscheme', user => 'u' },
    { cs => 'Endpoint=https://x.example;Port=8443;AccessKey=k4;Version=1.0;',
      hub => 'ported' },
    { cs => 'Endpoint=https://x.example;Port=443;AccessKey=k5;Version=1.0;',
      hub => 'defaultport' },
    { cs => 'Endpoint=http://127.0.0.1:80/;AccessKey=k6;Version=1.0;',
      hub => 'ipv4', user => 'ip-user' },
    # (an upper-case scheme is not compared: the JS SDK's case-sensitive
    # startsWith("http") turns HTTPS://h into https://https//h)
    { cs => 'Endpoint=https://Contoso.WebPubSub.Azure.COM;AccessKey=k7;Version=1.0;',
      hub => 'upper' },
    { cs => 'Endpoint=http://h.example:81;Port=9090;AccessKey=k8;Version=1.0;',
      hub => 'override', user => 'o' },
    { cs => 'Endpoint=https://contoso.webpubsub.azure.com;AccessKey=k9;Version=1.0;',
      hub => 'mqtthub', user => 'device-1', protocol => 'mqtt' },
    { cs => 'Endpoint=https://contoso.webpubsub.azure.com;AccessKey=k10;Version=1.0;',
      hub => 'mqtthub', protocol => 'mqtt',
      roles => ['webpubsub.sendToGroup', 'webpubsub.joinLeaveGroup'],
      groups => ['sensors', 'alerts'] },
    { cs => 'Endpoint=https://contoso.webpubsub.azure.com;AccessKey=k11;Version=1.0;',
      hub => 'sio', user => 'sio-user', protocol => 'socketio' },
    { cs => 'Endpoint=http://localhost:8080/prefix;AccessKey=k12;Version=1.0;',
      hub => 'sio', protocol => 'socketio', groups => ['g'] },
    { cs => 'Endpoint=http://localhost:8080;AccessKey=k13;Version=1.0;',
      hub => 'chat', user => q{quote"back\\slash'} },
    { cs => 'Endpoint=http://localhost:8080;AccessKey=k14;Version=1.0;',
      hub => 'chat', user => "ctl\x01\x07\x08\t\x0b\x0c\x1f\x7f" },
    { cs => 'Endpoint=http://localhost:8080;AccessKey=k15;Version=1.0;',
      hub => 'chat', user => "\x{e9}l\x{e8}ve \x{4e16}\x{754c} \x{1f600}" },
    { cs => 'Endpoint=http://localhost:8080;AccessKey=k16;Version=1.0;',
      hub => 'chat', user => 'long-' . ('0123456789' x 70) },
    { cs => 'Endpoint=http://localhost:8080;AccessKey=k17;Version=1.0;',
      hub => 'chat', user => 'multi',
      roles => ['r1', 'r2', 'webpubsub.sendToGroup.a', 'webpubsub.joinLeaveGroup.b'],
      groups => ['a', 'b', 'c'] },
    { cs => 'Endpoint=http://localhost:8080;AccessKey=k18;Version=1.0;',
      hub => 'chat', roles => [qq{role"with\\quote}, "r\x{f4}le"],
      groups => ["gr\x{fc}ppe", 'g 2'] },
    { cs => 'Endpoint=http://localhost:8080;AccessKey=k19;Version=1.0;',
      hub => 'chat', user => 'short', ttl => 5 },
    { cs => 'Endpoint=http://localhost:8080;AccessKey=k20;Version=1.0;',
      hub => 'chat', user => 'day', ttl => 1440 },
    { cs => 'Endpoint=http://localhost:8080;AccessKey=k21;Version=1.0;',
      hub => 'h_1`,.[]' },
    { cs => 'Endpoint=https://contoso.webpubsub.azure.com;AccessKey=ab/c+d==;Version=1.0;',
      hub => 'b64key', user => 'k' },
    { cs => 'endpoint=http://localhost:8080;accesskey=lower;version=1.0',
      hub => 'lowerkeys', user => '12345' },
    { cs => 'Endpoint=https://[::1]:8443;AccessKey=k25;Version=1.0;',
      hub => 'v6', protocol => 'mqtt', ttl => 90 },
);

# an nginx configuration string literal: quoted, \ and " escaped
sub conf_quote {
    my ($s) = @_;
    $s = encode_utf8($s);
    $s =~ s/([\\"])/\\$1/g;
    return qq{"$s"};
}

sub uri_escape_bytes {
    my ($s) = @_;
    my $b = encode_utf8($s);
    $b =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
    return $b;
}

my $locations = '';
my $n = 0;

for my $c (@cases) {
    my @lines = (
        'webpubsub_connection_string ' . conf_quote($c->{cs}) . ';',
        'webpubsub_hub ' . conf_quote($c->{hub}) . ';',
        'webpubsub_token_user_id $u;',
    );
    push @lines, 'webpubsub_token_roles '
        . join(' ', map { conf_quote($_) } @{ $c->{roles} }) . ';'
        if $c->{roles};
    push @lines, 'webpubsub_token_groups '
        . join(' ', map { conf_quote($_) } @{ $c->{groups} }) . ';'
        if $c->{groups};
    push @lines, "webpubsub_token_ttl $c->{ttl}m;" if $c->{ttl};
    push @lines, "webpubsub_token_protocol $c->{protocol};"
        if $c->{protocol};
    push @lines, 'webpubsub_token;';

    # the user id arrives percent-encoded in the path, decoded by nginx
    $locations .= "        location ~ ^/c/$n/(?<u>.*)\$ {\n"
        . join('', map { "            $_\n" } @lines) . "        }\n";
    $n++;
}

my $t = WebPubSub::Nginx->new();

$t->write_conf(<<"EOF");
%%GLOBALS%%

events {
}

http {
    %%GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_0%%;

$locations
    }
}
EOF

$t->run();
$t->plan(5 * @cases + 1);

my $json = JSON::PP->new->utf8->canonical;
my (@responses, @oracle_in);

$n = 0;
for my $c (@cases) {
    my $path = "/c/$n/" . (defined $c->{user} ? uri_escape_bytes($c->{user}) : '');
    my $r = $t->request('GET', $path);
    my $b = eval { $json->decode($r->{content}) } // {};
    push @responses, [ $r, $b ];

    my %in = (connectionString => $c->{cs}, hub => $c->{hub},
              nginxToken => $b->{token} // '');
    $in{userId} = $c->{user} if defined $c->{user};
    $in{roles} = $c->{roles} if $c->{roles};
    $in{groups} = $c->{groups} if $c->{groups};
    $in{expirationTimeInMinutes} = $c->{ttl} if $c->{ttl};
    $in{clientProtocol} = $c->{protocol} if $c->{protocol};
    push @oracle_in, \%in;
    $n++;
}

$t->write_file('oracle-in.json', $json->encode(\@oracle_in));

my $node = $ENV{TEST_NODE} // 'node';
my $dir = $t->testdir;
my $out = `$node $FindBin::Bin/oracle/negotiate.js $dir/oracle-in.json`;
my $oracle = eval { $json->decode($out) };
ok(ref $oracle eq 'ARRAY' && @$oracle == @cases, 'the SDK oracle ran')
    or diag("node said: $out");
$oracle //= [];

$n = 0;
for my $c (@cases) {
    my ($r, $b) = @{ $responses[$n] };
    my $o = $oracle->[$n] // {};
    my $sdk = $o->{sdk} // {};
    my $name = "case $n ($c->{hub}"
        . ($c->{protocol} ? ", $c->{protocol}" : '') . ')';
    $n++;

    is($r->{status}, 200, "$name: 200");

    if (($c->{protocol} // '') eq 'socketio') {
        (my $ws = $b->{endpoint} // '') =~ s{^http}{ws};
        is($ws . ($b->{path} // ''), $sdk->{baseUrl},
            "$name: endpoint + path is the SDK's baseUrl");
        ok(!exists $b->{url} && !exists $b->{baseUrl},
            "$name: Socket.IO shape");
    } else {
        is($b->{baseUrl}, $sdk->{baseUrl}, "$name: baseUrl as the SDK's");
        is($b->{url}, $sdk->{url}, "$name: url as the SDK's");
    }

    is($b->{token}, $sdk->{token}, "$name: token byte-identical to the SDK's")
        or diag($json->encode({ nginx => $o->{nginxClaims},
                                sdk => $o->{sdkClaims} }));
    is($o->{verified}, JSON::PP::true,
        "$name: jsonwebtoken verifies nginx's token")
        or diag($o->{verified} // $o->{error});
}

$t->done();
