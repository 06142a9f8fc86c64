-- Back-channel logout finds sessions through the session store's own index now.
DROP TABLE provider_sessions;
