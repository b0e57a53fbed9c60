using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Migu.Core.Distributed;

/// <summary>
/// Hands a few bytes from rank 0 to every other rank over TCP at MASTER_ADDR:MASTER_PORT, the way
/// torchrun-style launchers meet: rank 0 listens, the others connect (retrying until rank 0 is up)
/// and say who they are, and each gets the payload. Used once, for NCCL's unique id; the training
/// traffic itself goes through NCCL.
/// </summary>
public static class TcpRendezvous
{
    /// <summary>Seconds a rank waits for the others (MIGU_RENDEZVOUS_TIMEOUT overrides).</summary>
    public const int DefaultTimeoutSeconds = 300;

    /// <summary>
    /// Rank 0 passes <paramref name="payload"/> and gets it back once every other rank has it; the
    /// others pass null and get rank 0's bytes.
    /// </summary>
    public static byte[] Share(byte[]? payload, int rank, int worldSize, string address, int port, TimeSpan? timeout = null)
    {
        TimeSpan wait = timeout ?? TimeSpan.FromSeconds(
            int.TryParse(Environment.GetEnvironmentVariable("MIGU_RENDEZVOUS_TIMEOUT"), out int s) && s > 0 ? s : DefaultTimeoutSeconds);
        using var cancel = new CancellationTokenSource(wait);
        try
        {
            return rank == 0
                ? Serve(payload ?? throw new ArgumentNullException(nameof(payload)), worldSize, port, cancel.Token)
                : Fetch(rank, address, port, cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new MiguUserException(rank == 0
                ? $"rendezvous: not every rank reached port {port} within {wait.TotalSeconds:0} s"
                : $"rendezvous: rank 0 at {address}:{port} did not answer within {wait.TotalSeconds:0} s (check MASTER_ADDR/MASTER_PORT)");
        }
    }

    private static byte[] Serve(byte[] payload, int worldSize, int port, CancellationToken cancel)
    {
        using var listener = new TcpListener(IPAddress.Any, port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        try
        {
            listener.Start(worldSize);
        }
        catch (SocketException e)
        {
            throw new MiguUserException($"rendezvous: rank 0 cannot listen on port {port} ({e.Message}); pick another MASTER_PORT", e);
        }

        var seen = new HashSet<int>();
        while (seen.Count < worldSize - 1)
        {
            using TcpClient client = listener.AcceptTcpClientAsync(cancel).AsTask().GetAwaiter().GetResult();
            using NetworkStream stream = client.GetStream();
            int peer = ReadInt(stream, cancel);
            if (peer <= 0 || peer >= worldSize || !seen.Add(peer))
            {
                throw new MiguUserException($"rendezvous: a peer said it is rank {peer}, which is not expected in a world of {worldSize} (is another job using port {port}?)");
            }

            WriteInt(stream, payload.Length);
            stream.Write(payload);
        }

        return payload;
    }

    private static byte[] Fetch(int rank, string address, int port, CancellationToken cancel)
    {
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            using var client = new TcpClient();
            try
            {
                client.ConnectAsync(address, port, cancel).AsTask().GetAwaiter().GetResult();
            }
            catch (SocketException)
            {
                Task.Delay(200, cancel).GetAwaiter().GetResult(); // rank 0 is not listening yet
                continue;
            }

            using NetworkStream stream = client.GetStream();
            WriteInt(stream, rank);
            byte[] payload = new byte[ReadInt(stream, cancel)];
            stream.ReadExactlyAsync(payload, cancel).AsTask().GetAwaiter().GetResult();
            return payload;
        }
    }

    private static int ReadInt(NetworkStream stream, CancellationToken cancel)
    {
        byte[] buffer = new byte[4];
        stream.ReadExactlyAsync(buffer, cancel).AsTask().GetAwaiter().GetResult();
        return BinaryPrimitives.ReadInt32LittleEndian(buffer);
    }

    private static void WriteInt(NetworkStream stream, int value)
    {
        byte[] buffer = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(buffer, value);
        stream.Write(buffer);
    }
}
