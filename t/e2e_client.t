#!/usr/bin/perl

# The chat demo end to end with the official @azure/web-pubsub-client
# (t/oracle/e2e_client.js): nginx with examples/chat.conf in front of the
# local Web PubSub emulator (emulator/service.js) and the chat app (demo/app.js).
#
# Clients get their URL from nginx's /negotiate (webpubsub_token), talk to
# each other through the service, hear the app's announcements (the app
# publishes through nginx's /internal/announce, webpubsub_rest), and send
# events that reach the app through nginx's gateway
# (webpubsub_event_handler).  Every event the app saw is one the service
# sent, and the other way round; webhooks forged or for another hub stop at
# nginx.  Tokens without a user, for another hub, expired or signed with
# another key do not connect.
#
# t/e2e_client_entra.t runs this file with $AUTH = 'entra': the demo of
# "make run AUTH=entra" (examples/chat-entra.conf, the local Entra ID
# stand-in, the emulator with local auth disabled).  Then the tokens come
# from the service's :generateToken, the webhooks carry a Bearer token
# instead of ce-signature, the REST calls an Entra ID token, and there is
# no key to make an expired token with.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use JSON::PP;
use WebPubSub::Nginx;
use ChatDemo;

our $AUTH //= 'key';
my $ENTRA = $AUTH eq 'entra';

if (my $why = ChatDemo::missing()) {
    die "the chat demo cannot run: $why\n";
}

my $demo = ChatDemo->start(auth => $AUTH);
my $t = $demo->t;
my $KEY = $demo->key;
my $JSON = JSON::PP->new->canonical;

$t->plan(38);

###############################################################################
# negotiate, seen from here

{
    my $r = $t->get('/negotiate?name=alice');
    my $n = $r->{status} == 200 ? eval { decode_json($r->{content}) } : undef;
    my $base = 'ws://127.0.0.1:' . $demo->service_port . '/client/hubs/chat';
    ok($n && $n->{baseUrl} eq $base
        && $n->{url} eq "$base?access_token=$n->{token}",
        'negotiate: a client URL of the local service, hub chat')
        or diag("$r->{status} $r->{content}");
    my ($header, $claims) = eval { jwt_decode($n->{token}) };
    my $signed = $ENTRA
        # the service's own token (:generateToken), no key here to check it
        ? ($header->{kid} // '') =~ /^s-/
          && ($claims->{iss} // '') eq 'https://webpubsub.azure.com'
        : jwt_verify_hs256($n->{token}, $KEY);
    ok($n && $signed
        && ($claims->{sub} // '') eq 'alice'
        && $JSON->encode($claims->{'webpubsub.group'} // []) eq '["lobby"]',
        $ENTRA ? 'negotiate: the service\'s token, for alice, in the lobby'
               : 'negotiate: signed with the demo key, for alice, in the lobby')
        or diag(explain([ $header, $claims ]));
}

###############################################################################
# the clients

my $r = $demo->oracle('e2e_client.js', timeout => 40);
my %c = map { $_ => $r->{clients}{$_} // {} } qw(alice bob carol);

ok(!defined $r->{error}, 'the clients went through every step')
    or diag("failed at: $r->{error}\n"
        . join('', map { "  $_\n" } @{ $r->{timings} // [] })
        . JSON::PP->new->canonical->pretty->encode($r) . $demo->logs_for_diag());

sub one_connection {
    my ($name) = @_;
    my $conns = $c{$name}{connected} // [];
    return @$conns == 1 && ($conns->[0]{userId} // '') eq $name
        && ($conns->[0]{connectionId} // '') ne ''
        ? $conns->[0]{connectionId} : undef;
}

my %id;
for my $name (qw(alice bob)) {
    $id{$name} = one_connection($name);
    ok($id{$name}, "$name connected once, as $name")
        or diag(explain($c{$name}{connected}));
}
is($c{alice}{protocol}, 'json.webpubsub.azure.v1',
    'alice speaks json.webpubsub.azure.v1');
is($c{bob}{protocol}, 'default', 'bob speaks the default protocol');
ok($r->{aliceJoin} && $r->{bobJoin}, 'both joined the lobby (acked)');

# the group messages, with who sent them
sub group_messages {
    my ($name) = @_;
    return [ map { $JSON->encode($_) } @{ $c{$name}{groupMessages} // [] } ];
}
my $from_alice = $JSON->encode({ group => 'lobby', fromUserId => 'alice',
    dataType => 'json', data => { text => 'hello from alice' } });
my $from_bob = $JSON->encode({ group => 'lobby', fromUserId => 'bob',
    dataType => 'text', data => 'hi alice, bob here' });
is_deeply(group_messages('bob'), [ $from_alice, $from_bob ],
    'bob got alice\'s message (from alice), then his own');
is_deeply(group_messages('alice'), [ $from_alice, $from_bob ],
    'alice got her own message, then bob\'s (from bob)');

# the app's announcements, published through nginx's REST location
sub announcements {
    my ($name) = @_;
    return [ map { $_->{dataType} eq 'json' && ref $_->{data} eq 'HASH'
                       ? $_->{data}{system} : $JSON->encode($_) }
        @{ $c{$name}{serverMessages} // [] } ];
}
is_deeply(announcements('alice'), [ 'alice joined', 'bob joined', 'bob left' ],
    'alice heard the app announce herself, bob joining and bob leaving');
is_deeply(announcements('bob'), [ 'bob joined' ],
    'bob heard the app announce himself');

ok($r->{aliceEvent} && $r->{bobEvent}, 'both events were acked');
ok($c{alice}{stopped} && $c{bob}{stopped}, 'both clients stopped');

# the failures
my $nameless = $r->{failures}{nameless} // {};
my $claims = ($nameless->{log}{negotiated} // [])->[0]{claims};
ok($claims && !exists $claims->{sub} && $claims->{aud},
    'negotiate without a name: a token without a user')
    or diag(explain($nameless));
like($nameless->{error} // 'connected', qr/\b401\b/,
    'a client without a user is refused (401, by the app)');

ok($r->{otherHubPathChanged}, 'nginx\'s URL moved to another hub');
for my $case ('token at another hub', 'token for another hub',
              ($ENTRA ? () : 'expired token'), 'token with another key') {
    like(($r->{failures}{$case} // {})->{error} // 'connected', qr/\b401\b/,
        "refused (401): a client with the $case");
}
my $carol = one_connection('carol');
ok($carol, 'the control: a token made here like those connects');

###############################################################################
# forged webhooks, straight to nginx

sub webhook {
    my ($type, $conn, %o) = @_;
    my $bearer = delete $o{bearer};
    my %h = (
        'Content-Type'    => 'application/json',
        'ce-specversion'  => '1.0',
        'ce-awpsversion'  => '1.0',
        'ce-type'         => "azure.webpubsub.$type",
        'ce-connectionId' => $conn,
        'ce-hub'          => $o{hub} // 'chat',
        'ce-userId'       => 'mallory',
        'ce-eventName'    => ($type =~ /\.(\w+)$/)[0],
        'WebHook-Request-Origin' => '127.0.0.1',
    );
    $h{'ce-signature'} = 'sha256=' . hmac_sha256_hex($o{key}, $conn)
        if defined $o{key};
    $h{Authorization} = "Bearer $bearer" if defined $bearer;
    my $res = $t->request('POST', '/eventhandler/', headers => \%h,
        body => '{"text":"forged"}');
    return "$res->{status} $res->{content}";
}

if ($ENTRA) {
    my $idp = $demo->idp;
    like(webhook('sys.connected', 'forged-conn-1', key => 'not-the-demo-key'),
        qr/^401 .*missing Bearer token/,
        'forged: a connected event with a ce-signature, no Bearer token');
    like(webhook('sys.connect', 'forged-conn-2'),
        qr/^401 .*missing Bearer token/, 'forged: a connect event, no token');
    like(webhook('user.forged', $id{alice} // 'x',
            bearer => $idp->mint({ aud => 'api://another-app' })->{token}),
        qr/^401 .*audience is not the configured one/,
        'forged: a user event on alice\'s connection, a token for another app');
    like(webhook('sys.connected', 'forged-conn-3', hub => 'other',
            bearer => $idp->mint({ aud => $demo->audience })->{token}),
        qr/^400 .*ce-hub is not this hub/,
        'a valid Bearer token, but for another hub');
} else {
    like(webhook('sys.connected', 'forged-conn-1', key => 'not-the-demo-key'),
        qr/^401 .*invalid ce-signature/,
        'forged: a connected event, another key');
    like(webhook('sys.connect', 'forged-conn-2'),
        qr/^401 .*missing ce-signature/,
        'forged: a connect event, no signature');
    like(webhook('user.forged', $id{alice} // 'x', key => 'not-the-demo-key'),
        qr/^401 .*invalid ce-signature/,
        'forged: a user event on alice\'s connection, another key');
    like(webhook('sys.connected', 'forged-conn-3', key => $KEY, hub => 'other'),
        qr/^400 .*ce-hub is not this hub/,
        'signed with the key, but for another hub');
}

###############################################################################
# what the app saw against what the service sent

# the service's events that got an answer; the app's events
sub service_events {
    return map {
        (my $e = $_->{type} // '') =~ s/^azure\.webpubsub\.(?:sys\.)?//;
        +{ %$_, app_event => $e }
    } grep { ($_->{kind} // '') eq 'upstream.event' && defined $_->{status} }
        $demo->service_log();
}

my %left = map { $_ => 1 } grep { defined } @id{qw(alice bob)}, $carol;
eval {
    $demo->wait_until(sub {
        my %gone = map { $_->{connectionId} => 1 }
            grep { $_->{event} eq 'disconnected' } $demo->app_events();
        my %sent = map { $_->{connectionId} => 1 }
            grep { $_->{app_event} eq 'disconnected' } service_events();
        !grep { !$gone{$_} || !$sent{$_} } keys %left;
    }, ChatDemo::scaled(5));
};
ok(!$@, 'the app saw alice, bob and carol disconnect')
    or diag($demo->logs_for_diag());

my @app = $demo->app_events();
my @sent = service_events();
my @service_log = $demo->service_log();

my %user_of = map { $_->{connectionId} => $_->{userId} }
    grep { ($_->{kind} // '') eq 'connection.opened' } @service_log;

sub events_of {
    my ($conn) = @_;
    return [ map { $_->{event} } grep { $_->{connectionId} eq $conn } @app ];
}
is_deeply(events_of($id{alice} // '?'),
    [ qw(connect connected user.shout disconnected) ],
    'the app: alice\'s connect, connected, event "shout", disconnected');
is_deeply(events_of($id{bob} // '?'),
    [ qw(connect connected user.typing disconnected) ],
    'the app: bob\'s connect, connected, event "typing", disconnected');
is_deeply(events_of($carol // '?'), [ qw(connect connected disconnected) ],
    'the app: carol\'s connect, connected, disconnected');

my @nameless = grep { !defined $_->{userId} } @app;
ok(@nameless == 1 && $nameless[0]{event} eq 'connect'
    && !grep({ $_->{connectionId} eq $nameless[0]{connectionId}
               && $_ != $nameless[0] } @app),
    'the app: one connect without a user, and nothing more of it')
    or diag(explain(\@nameless));

# every line of APP_LOG is an event the service really sent, and each
# event the service sent and nginx let through reached the app once
my $key = sub { join ' ', map { $_ // '-' } @{ $_[0] }{qw(connectionId hub)},
    $_[1] };
my @app_keys = sort map { $key->($_, $_->{event}) } @app;
my @sent_keys = sort map { $key->($_, $_->{app_event}) } @sent;
is_deeply(\@app_keys, \@sent_keys,
    'the app saw exactly the events the service sent')
    or diag(explain({ app => \@app, service => \@sent }));
ok(!grep({ defined $_->{userId}
           && ($user_of{$_->{connectionId}} // '') ne $_->{userId} } @app),
    'and each with the user the service connected');
my @refused = grep { $_->{status} < 200 || $_->{status} > 299 } @sent;
is_deeply([ map { "$_->{app_event} $_->{status} $_->{connectionId}" } @refused ],
    [ 'connect 401 ' . ($nameless[0]{connectionId} // '?') ],
    'nginx passed every event the service sent; the app refused one connect')
    or diag(explain(\@sent));

# why the service refused the five that failed, in order
my @rejected = grep { ($_->{kind} // '') eq 'connection.rejected' }
    @service_log;
# (emulator/service.js words them as 'connect event answered 401', 'token: aud
# "<chat>" is not <other>', 'token: expired', 'token: signature made with
# none of the keys')
my @why = (
    [ connect   => qr/^401 .*\bconnect\b.*\b401\b/ ],
    [ other_url => qr{^401 .*\baud\b.*/hubs/chat\b.*/hubs/other\b} ],
    [ other_aud => qr{^401 .*\baud\b.*/hubs/other\b.*/hubs/chat\b} ],
    ($ENTRA ? () : [ expired   => qr/^401 .*\bexpired\b/ ]),
    [ key       => qr/^401 .*\b(?:signature|keys?)\b/ ],
);
ok(@rejected == @why
    && !grep({ "$rejected[$_]{status} $rejected[$_]{reason}" !~ $why[$_][1] }
             0 .. $#why)
    && ($rejected[0]{connectionId} // '') eq ($nameless[0]{connectionId} // '?'),
    'the service refused them for the app\'s 401, the audience (twice), '
    . ($ENTRA ? '' : 'the expiry ') . 'and the key')
    or diag(explain(\@rejected));

my ($validate) = grep { ($_->{kind} // '') eq 'upstream.validate' }
    @service_log;
ok($validate && $validate->{ok},
    'the service\'s abuse-protection handshake with nginx succeeded')
    or diag(explain($validate));

ok(!grep({ $_->{connectionId} =~ /^forged-/ || $_->{event} eq 'user.forged'
           || ($_->{userId} // '') eq 'mallory' } @app),
    'no forged webhook reached the app');

# The app's announcements went out through nginx's REST location.
# (Entra: the :generateToken calls of negotiate are looked at below)
my @rest = grep { ($_->{kind} // '') eq 'rest'
                  && !($ENTRA && ($_->{op} // '') eq 'generateToken') }
    @service_log;
ok(@rest >= 3 && !grep({ ($_->{op} // '') ne 'sendToGroup'
                         || ($_->{url} // '') !~ m{^/api/hubs/chat/groups/lobby/:send\?}
                         || ($_->{auth} // '')
                            ne ($ENTRA ? 'entra token valid' : 'valid')
                         || ($_->{status} // 0) != 202 } @rest),
    $ENTRA ? 'the service got the app\'s announcements as sendToGroup calls '
             . 'with an Entra ID token'
           : 'the service got the app\'s announcements as signed sendToGroup calls')
    or diag(explain(\@rest));

if ($ENTRA) {
    # nginx's negotiate: :generateToken with the managed identity's token
    # (IMDS of the identity provider): alice (here, then the client, then
    # for the other hub), bob, the nameless one
    my @gen = grep { ($_->{kind} // '') eq 'rest'
                     && ($_->{op} // '') eq 'generateToken'
                     && ($_->{url} // '') =~ /[?&]role=webpubsub\./ }
        @service_log;
    # (the service asks IMDS too, for its webhooks' audience)
    my @imds = grep { $_->{kind} eq 'imds'
                      && ($_->{query}{resource} // '')
                         eq 'https://webpubsub.azure.com' }
        $demo->idp->log(0);
    ok(@gen == 5 && !grep({ $_->{auth} ne 'entra token valid'
                            || $_->{status} != 200
                            || $_->{url} !~ m{^/api/hubs/chat/:generateToken\?} }
                          @gen)
        && @imds == 1,
        'negotiate: :generateToken calls with the one token of the managed '
        . 'identity')
        or diag(explain({ generateToken => \@gen, imds => \@imds }));
}

$t->done();
