// A Go LOOP host for Loop's interop tests: it launches the plugin named by its first argument with
// hashicorp/go-plugin (Debian's 1.0.1), calls Echo.Say("hello") and prints "reply: <text> <calls>", then uses the
// connection broker both ways: Offer (the plugin serves, this host dials) and Relay (this host serves, the plugin
// dials), printing "offered: <text>" and "relayed: <text>".
// Further arguments go to the plugin. Set LOOP_INTEROP_AUTOMTLS=1 to ask for AutoMTLS.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	echo "loopinterop/echo"
)

type brokered struct {
	echo.EchoClient
	broker *plugin.GRPCBroker
}

type echoPlugin struct{ plugin.Plugin }

func (p *echoPlugin) GRPCServer(broker *plugin.GRPCBroker, server *grpc.Server) error { return nil }

func (p *echoPlugin) GRPCClient(ctx context.Context, broker *plugin.GRPCBroker, conn *grpc.ClientConn) (interface{}, error) {
	return &brokered{EchoClient: echo.NewEchoClient(conn), broker: broker}, nil
}

// hostEcho is the Echo this host serves to the plugin over a brokered connection.
type hostEcho struct{ echo.UnimplementedEchoServer }

func (*hostEcho) Say(ctx context.Context, req *echo.EchoRequest) (*echo.EchoReply, error) {
	return &echo.EchoReply{Text: "gohost:" + req.Text}, nil
}

func run() int {
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  1,
			MagicCookieKey:   "LOOP_SAMPLE_PLUGIN",
			MagicCookieValue: "a3d5e9c1-loop-sample",
		},
		Plugins:          map[string]plugin.Plugin{"echo": &echoPlugin{}},
		Cmd:              exec.Command(os.Args[1], os.Args[2:]...),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         os.Getenv("LOOP_INTEROP_AUTOMTLS") == "1",
	})
	// Kill before returning: os.Exit would skip a deferred Kill and orphan the plugin.
	defer client.Kill()

	rpc, err := client.Client()
	if err != nil {
		fmt.Println("error: client:", err)
		return 1
	}
	raw, err := rpc.Dispense("echo")
	if err != nil {
		fmt.Println("error: dispense:", err)
		return 1
	}
	plug := raw.(*brokered)
	ctx := context.Background()
	reply, err := plug.Say(ctx, &echo.EchoRequest{Text: "hello"})
	if err != nil {
		fmt.Println("error: say:", err)
		return 1
	}
	fmt.Printf("reply: %s %d\n", reply.Text, reply.Calls)

	offer, err := plug.Offer(ctx, &echo.OfferRequest{Prefix: "sub"})
	if err != nil {
		fmt.Println("error: offer:", err)
		return 1
	}
	conn, err := plug.broker.Dial(offer.BrokerId)
	if err != nil {
		fmt.Println("error: dial:", err)
		return 1
	}
	defer conn.Close()
	offered, err := echo.NewEchoClient(conn).Say(ctx, &echo.EchoRequest{Text: "way"})
	if err != nil {
		fmt.Println("error: offered say:", err)
		return 1
	}
	fmt.Printf("offered: %s\n", offered.Text)

	id := plug.broker.NextId()
	go plug.broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		server := grpc.NewServer(opts...)
		echo.RegisterEchoServer(server, &hostEcho{})
		return server
	})
	relayed, err := plug.Relay(ctx, &echo.RelayRequest{BrokerId: id, Text: "round"})
	if err != nil {
		fmt.Println("error: relay:", err)
		return 1
	}
	fmt.Printf("relayed: %s\n", relayed.Text)
	return 0
}

func main() {
	code := run()
	os.Exit(code)
}
